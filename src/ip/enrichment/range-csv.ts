import { RangeTableBuilder } from './range-table';

/**
 * Readers of the `@ip-location-db` "-num" CSV files: `start,end,value…` per line, where start and
 * end are inclusive addresses as decimal integers (up to 39 digits for IPv6). Parsed by hand from
 * the file text — no CSV library, no BigInt — because the four files hold about a million rows and
 * the whole load must stay well under the boot budget (docs/performance.md).
 */

export interface RangeCsvResult {
  /** Rows that were not `number,number,…`. */
  invalidLines: number;
  rows: number;
}

/** Lines parsed between two yields to the event loop, so a load never blocks it for long. */
const LINES_PER_SLICE = 20_000;

/**
 * Parses `text` into `builder` (1 word per address for IPv4, 4 for IPv6); `valueOf` maps the rest
 * of each line (the text after `start,end,`) to the stored integer. Yields to the event loop every LINES_PER_SLICE lines.
 */
export async function readRangeCsv(
  text: string,
  builder: RangeTableBuilder,
  valueOf: (rest: string) => number,
): Promise<RangeCsvResult> {
  const words = builder.words;
  const start = new Uint32Array(words);
  const end = new Uint32Array(words);
  let invalidLines = 0;
  let rows = 0;
  let position = 0;
  let sliceLeft = LINES_PER_SLICE;
  while (position < text.length) {
    let lineEnd = text.indexOf('\n', position);
    if (lineEnd === -1) lineEnd = text.length;
    const firstComma = text.indexOf(',', position);
    const secondComma = firstComma === -1 || firstComma > lineEnd ? -1 : text.indexOf(',', firstComma + 1);
    if (lineEnd > position && text.charCodeAt(position) !== 35 /* # */) {
      if (
        secondComma !== -1 &&
        secondComma < lineEnd &&
        parseDecimal(text, position, firstComma, start) &&
        parseDecimal(text, firstComma + 1, secondComma, end)
      ) {
        builder.add(start, end, valueOf(text.slice(secondComma + 1, trimEnd(text, lineEnd))));
        rows++;
      } else if (text.slice(position, lineEnd).trim() !== '') {
        invalidLines++;
      }
    }
    position = lineEnd + 1;
    if (--sliceLeft === 0) {
      sliceLeft = LINES_PER_SLICE;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return { invalidLines, rows };
}

/** Drops a trailing `\r`. */
function trimEnd(text: string, lineEnd: number): number {
  return lineEnd > 0 && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
}

const LIMB_BASE = 0x10000;

/**
 * Parses the decimal integer text[from, to) into big-endian 32-bit words (1 or 4). Works in 16-bit
 * limbs so every intermediate product stays an exact double. False when the text is not a number
 * that fits.
 */
export function parseDecimal(text: string, from: number, to: number, out: Uint32Array): boolean {
  if (to <= from || to - from > 40) return false;
  if (out.length === 1) {
    let value = 0;
    for (let i = from; i < to; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return false;
      value = value * 10 + digit;
    }
    if (value > 0xffffffff) return false;
    out[0] = value;
    return true;
  }
  // Eight 16-bit limbs, least significant first, fed nine digits at a time: limb × 10⁹ + carry
  // stays below 2⁵³, so every step is exact in a double.
  const limbs = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = from; i < to;) {
    const chunkEnd = Math.min(to, i + ((to - from) % 9 === 0 || i !== from ? 9 : (to - from) % 9));
    let chunk = 0;
    let scale = 1;
    for (; i < chunkEnd; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) return false;
      chunk = chunk * 10 + digit;
      scale *= 10;
    }
    let carry = chunk;
    for (let l = 0; l < 8; l++) {
      const next = limbs[l] * scale + carry;
      carry = Math.floor(next / LIMB_BASE);
      limbs[l] = next - carry * LIMB_BASE;
    }
    if (carry !== 0) return false;
  }
  for (let w = 0; w < 4; w++) {
    out[w] = (limbs[7 - w * 2] * LIMB_BASE + limbs[6 - w * 2]) >>> 0;
  }
  return true;
}
