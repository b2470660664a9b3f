import { decodeCtc, findTextRegions, groupIntoLines, unclip } from './text-layout';

describe('text layout', () => {
  it('finds each connected region above the threshold, with its mean probability', () => {
    // 8 × 4 map: a 3 × 3 blob on the left, a 2 × 4 blob on the right, a one-pixel speck
    const map = new Float32Array(8 * 4);
    for (const [x, y] of [
      [0, 0],
      [1, 0],
      [2, 0],
      [0, 1],
      [1, 1],
      [2, 1],
      [0, 2],
      [1, 2],
      [2, 2],
    ])
      map[y * 8 + x] = 0.9;
    for (let y = 0; y < 4; y++) for (const x of [5, 6]) map[y * 8 + x] = 0.8;
    map[3 * 8 + 3] = 0.9;

    const sut = findTextRegions(map, 8, 4, { minSide: 2 });

    expect(sut).toEqual([
      { x: 0, y: 0, width: 3, height: 3, score: expect.closeTo(0.9, 5) },
      { x: 5, y: 0, width: 2, height: 4, score: expect.closeTo(0.8, 5) },
    ]);
  });

  it('grows a shrunk text kernel back and keeps it inside the map', () => {
    const sut = unclip({ x: 1, y: 1, width: 10, height: 2 }, 12, 4);

    expect(sut.x).toBe(0);
    expect(sut.y).toBeCloseTo(0, 5);
    expect(sut.x + sut.width).toBe(12);
    expect(sut.y + sut.height).toBe(4);
  });

  it('puts words side by side on one line and a word below on the next', () => {
    const second = { x: 60, y: 2, width: 40, height: 20 };
    const first = { x: 0, y: 0, width: 50, height: 20 };
    const below = { x: 0, y: 40, width: 30, height: 20 };
    const far = { x: 400, y: 0, width: 30, height: 20 };

    const sut = groupIntoLines([below, second, far, first]);

    expect(sut).toEqual([[first, second], [far], [below]]);
  });

  it('decodes CTC greedily: repeats collapse, blanks separate, blanks drop', () => {
    const alphabet = ['A', 'B'];
    // steps: A A blank A B B → "AAB"
    const best = [1, 1, 0, 1, 2, 2];
    const scores = best.flatMap((cls) => [0, 1, 2].map((c) => (c === cls ? 0.9 : 0.05)));

    const sut = decodeCtc(scores, best.length, 3, alphabet);

    expect(sut.text).toBe('AAB');
    expect(sut.score).toBeCloseTo(0.9, 5);
  });
});
