import sharp from 'sharp';

const SAMPLE = 32;
const KEPT = 8;

/** cos((2x + 1) u π / 64) for x < 32, u < 8: the DCT-II basis, only the low frequencies kept. */
const BASIS = Array.from({ length: KEPT }, (_, u) =>
  Float64Array.from({ length: SAMPLE }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * SAMPLE))),
);

/**
 * A 64-bit perceptual hash (pHash): the image flattened on white, grey, squeezed to 32 × 32, its
 * 8 × 8 lowest DCT frequencies compared with their median. Resizing, re-encoding (JPEG ↔ WebP) and
 * light re-compression move few bits; different images differ in about half (docs/api.md,
 * "Near-duplicates"). Written as 16 lower-case hex digits.
 */
export class PerceptualHash {
  static async of(image: Buffer): Promise<string> {
    const { data } = await sharp(image, { failOn: 'none' })
      .flatten({ background: '#ffffff' })
      .greyscale()
      .resize(SAMPLE, SAMPLE, { fit: 'fill', kernel: 'cubic' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return hashOfPixels(data);
  }
}

/** The hash of 32 × 32 grey pixels (row-major, one byte each). */
export function hashOfPixels(pixels: ArrayLike<number>): string {
  // Rows first: rows[y][u] = Σx p[y][x] · basis[u][x]; then columns for each (v, u).
  const rows = Array.from({ length: SAMPLE }, (_, y) =>
    BASIS.map((basis) => {
      let sum = 0;
      for (let x = 0; x < SAMPLE; x++) sum += pixels[y * SAMPLE + x] * basis[x];
      return sum;
    }),
  );
  const coefficients: number[] = [];
  for (let v = 0; v < KEPT; v++) {
    for (let u = 0; u < KEPT; u++) {
      let sum = 0;
      for (let y = 0; y < SAMPLE; y++) sum += rows[y][u] * BASIS[v][y];
      coefficients.push(sum);
    }
  }
  // The DC term (average brightness) would dominate the median: leave it out of it.
  const median = [...coefficients.slice(1)].sort((a, b) => a - b)[Math.floor((coefficients.length - 1) / 2)];
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let bit = 0; bit < 4; bit++) value = (value << 1) | (coefficients[nibble * 4 + bit] > median ? 1 : 0);
    hex += value.toString(16);
  }
  return hex;
}

/** Bits that differ between two hashes (0–64). */
export function hammingDistance(a: string, b: string): number {
  let distance = 0;
  for (let half = 0; half < 16; half += 8) {
    let x = (parseInt(a.slice(half, half + 8), 16) ^ parseInt(b.slice(half, half + 8), 16)) >>> 0;
    while (x !== 0) {
      x &= x - 1;
      distance++;
    }
  }
  return distance;
}

export function isPerceptualHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{16}$/.test(value);
}
