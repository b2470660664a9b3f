import sharp from 'sharp';
import { hammingDistance, hashOfPixels, isPerceptualHash, PerceptualHash } from './perceptual-hash';
import { seededRandom } from '../../../test/support/seeded-random';

/** A scene of a few shapes on a gradient; `seed` moves and colours them, so seeds differ in content. */
function scene(seed: number, width = 800, height = 600): Promise<Buffer> {
  const random = seededRandom(seed);
  const shapes = Array.from({ length: 6 }, () => {
    const colour = `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
    const x = Math.floor(random() * width);
    const y = Math.floor(random() * height);
    const size = 60 + Math.floor(random() * 200);
    return random() < 0.5
      ? `<circle cx="${x}" cy="${y}" r="${size / 2}" fill="${colour}"/>`
      : `<rect x="${x - size / 2}" y="${y - size / 3}" width="${size}" height="${(size * 2) / 3}" fill="${colour}"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#${(seed * 2654435761).toString(16).slice(-6).padStart(6, '0')}"/><stop offset="1" stop-color="#f0f0f0"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

describe('PerceptualHash', () => {
  it('is 16 hex digits, and the same for the same pixels', async () => {
    const image = await scene(1);

    const sut = await PerceptualHash.of(image);

    expect(isPerceptualHash(sut)).toBe(true);
    expect(await PerceptualHash.of(image)).toBe(sut);
  });

  it('moves few bits for a resized, re-encoded or re-compressed copy', async () => {
    const original = await scene(2);
    const copies = await Promise.all([
      sharp(original).jpeg({ quality: 60 }).toBuffer(),
      sharp(original).webp({ quality: 50 }).toBuffer(),
      sharp(original).resize(400).jpeg({ quality: 80 }).toBuffer(),
      sharp(original).resize(400).webp({ quality: 70 }).toBuffer(),
      sharp(original).resize(1200).png().toBuffer(),
    ]);
    const hash = await PerceptualHash.of(original);

    for (const copy of copies) {
      expect(hammingDistance(hash, await PerceptualHash.of(copy))).toBeLessThanOrEqual(4);
    }
  });

  it('moves many bits between different images', async () => {
    const hashes = await Promise.all(
      Array.from({ length: 30 }, (_, seed) => scene(100 + seed).then(PerceptualHash.of)),
    );

    const distances = hashes.flatMap((a, i) => hashes.slice(i + 1).map((b) => hammingDistance(a, b)));

    expect(Math.min(...distances)).toBeGreaterThan(6);
  });

  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', '0000000000000000')).toBe(0);
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('8000000000000001', '0000000000000000')).toBe(2);
    expect(hammingDistance('00000000f0000000', '0000000000000000')).toBe(4);
  });

  it('hashes flat grey to a valid hash (all coefficients equal)', () => {
    expect(isPerceptualHash(hashOfPixels(new Uint8Array(32 * 32).fill(128)))).toBe(true);
  });
});
