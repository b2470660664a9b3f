import { bandRadius, bandsOf, probesOf } from './hash-bands';
import { hammingDistance } from './perceptual-hash';

describe('hash bands', () => {
  it('splits a hash into four 16-bit bands, most significant first', () => {
    expect(bandsOf('0001ffff8000abcd')).toEqual([0x0001, 0xffff, 0x8000, 0xabcd]);
  });

  it('probes every value within the radius exactly once', () => {
    expect(probesOf(0, 0)).toEqual([0]);
    const sut = probesOf(0x00ff, 2);

    expect(sut).toHaveLength(1 + 16 + 120);
    expect(new Set(sut).size).toBe(sut.length);
    for (const probe of sut) expect(popcount(probe ^ 0x00ff)).toBeLessThanOrEqual(2);
  });

  it('finds every hash within the distance through at least one probed band (pigeonhole)', () => {
    const random = seeded(7);
    for (let trial = 0; trial < 500; trial++) {
      const maxDistance = 1 + Math.floor(random() * 12);
      const hash = randomHash(random);
      const near = flipBits(hash, Math.floor(random() * (maxDistance + 1)), random);
      const radius = bandRadius(maxDistance);
      const query = bandsOf(hash);

      const found = bandsOf(near).some((value, band) => probesOf(query[band], radius).includes(value));

      expect(hammingDistance(hash, near)).toBeLessThanOrEqual(maxDistance);
      expect(found).toBe(true);
    }
  });
});

function popcount(value: number): number {
  let count = 0;
  for (let x = value; x !== 0; x &= x - 1) count++;
  return count;
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function randomHash(random: () => number): string {
  return Array.from({ length: 16 }, () => Math.floor(random() * 16).toString(16)).join('');
}

function flipBits(hash: string, count: number, random: () => number): string {
  const bits = [...hash].flatMap((digit) => parseInt(digit, 16).toString(2).padStart(4, '0').split('').map(Number));
  const positions = new Set<number>();
  while (positions.size < count) positions.add(Math.floor(random() * 64));
  for (const position of positions) bits[position] ^= 1;
  let out = '';
  for (let i = 0; i < 64; i += 4) out += parseInt(bits.slice(i, i + 4).join(''), 2).toString(16);
  return out;
}
