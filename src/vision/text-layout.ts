import type { Box } from './vision.types';

/** A connected region of the text detector's probability map, in map pixels. */
export interface TextRegion extends Box {
  /** Mean probability inside the region. */
  score: number;
}

/**
 * Connected regions of `probability` above `threshold` (4-connectivity), dropping specks thinner
 * than `minSide` and regions whose mean probability is below `minScore` (DBNet's box score).
 */
export function findTextRegions(
  probability: ArrayLike<number>,
  width: number,
  height: number,
  { threshold = 0.3, minScore = 0.6, minSide = 3 } = {},
): TextRegion[] {
  const size = width * height;
  const seen = new Uint8Array(size);
  const stack = new Int32Array(size);
  const regions: TextRegion[] = [];
  const visit = (q: number, top: number): number => {
    if (seen[q] || probability[q] <= threshold) return top;
    seen[q] = 1;
    stack[top] = q;
    return top + 1;
  };
  for (let start = 0; start < size; start++) {
    if (seen[start] || probability[start] <= threshold) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let x0 = width;
    let y0 = height;
    let x1 = -1;
    let y1 = -1;
    let count = 0;
    let sum = 0;
    while (top > 0) {
      const p = stack[--top];
      const x = p % width;
      const y = (p - x) / width;
      count++;
      sum += probability[p];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (x > 0) top = visit(p - 1, top);
      if (x < width - 1) top = visit(p + 1, top);
      if (y > 0) top = visit(p - width, top);
      if (y < height - 1) top = visit(p + width, top);
    }
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    if (Math.min(w, h) < minSide || sum / count < minScore) continue;
    regions.push({ x: x0, y: y0, width: w, height: h, score: sum / count });
  }
  return regions;
}

/**
 * DBNet predicts a shrunk text kernel; grow it back by `area × ratio / perimeter` on each side
 * (PaddleOCR's unclip, for an axis-aligned box), clamped to the map.
 */
export function unclip(region: Box, width: number, height: number, ratio = 1.5): Box {
  const distance = (region.width * region.height * ratio) / (2 * (region.width + region.height));
  const x0 = Math.max(0, region.x - distance);
  const y0 = Math.max(0, region.y - distance);
  const x1 = Math.min(width, region.x + region.width + distance);
  const y1 = Math.min(height, region.y + region.height + distance);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Groups word boxes into lines, top to bottom, each line left to right: two boxes share a line when
 * their vertical overlap is at least half the smaller height and the gap between them is at most
 * `maxGap` times the taller height.
 */
export function groupIntoLines<T extends Box>(boxes: T[], maxGap = 1.5): T[][] {
  const lines: T[][] = [];
  for (const box of [...boxes].sort((a, b) => a.x - b.x)) {
    const line = lines.find((candidate) => {
      const last = candidate[candidate.length - 1];
      const overlap = Math.min(last.y + last.height, box.y + box.height) - Math.max(last.y, box.y);
      const gap = box.x - (last.x + last.width);
      return overlap >= 0.5 * Math.min(last.height, box.height) && gap <= maxGap * Math.max(last.height, box.height);
    });
    if (line) line.push(box);
    else lines.push([box]);
  }
  return lines.sort((a, b) => a[0].y - b[0].y || a[0].x - b[0].x);
}

/** The box around several boxes. */
export function boundingBox(boxes: Box[]): Box {
  const x0 = Math.min(...boxes.map((box) => box.x));
  const y0 = Math.min(...boxes.map((box) => box.y));
  const x1 = Math.max(...boxes.map((box) => box.x + box.width));
  const y1 = Math.max(...boxes.map((box) => box.y + box.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * Greedy CTC decoding of a recogniser output `[steps × classes]` (class 0 is the blank): the best
 * class per step, repeats collapsed, blanks dropped. `alphabet[i - 1]` is class i's character.
 */
export function decodeCtc(
  scores: ArrayLike<number>,
  steps: number,
  classes: number,
  alphabet: readonly string[],
): { text: string; score: number } {
  let text = '';
  let total = 0;
  let characters = 0;
  let previous = 0;
  for (let step = 0; step < steps; step++) {
    let best = 0;
    let bestScore = -Infinity;
    const offset = step * classes;
    for (let cls = 0; cls < classes; cls++) {
      const value = scores[offset + cls];
      if (value > bestScore) {
        bestScore = value;
        best = cls;
      }
    }
    if (best !== 0 && best !== previous && alphabet[best - 1] !== undefined) {
      text += alphabet[best - 1];
      total += bestScore;
      characters++;
    }
    previous = best;
  }
  return { text: text.trim(), score: characters === 0 ? 0 : total / characters };
}
