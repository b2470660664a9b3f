import sharp from 'sharp';
import { hammingDistance, PerceptualHash } from './perceptual-hash';

/** The side of the colour layout: 4 × 4 cells of mean sRGB colour. */
const LAYOUT = 4;

/**
 * How far two colour layouts may differ and still be the same picture: the largest difference of
 * one cell's channel (0–255). Measured here: resized and JPEG/WebP re-encoded copies differ by 1–14
 * (26 for black text on white re-encoded as JPEG quality 30); generated images whose hashes were
 * within 6 bits of each other differed by 92 or more.
 */
export const MAX_COLOUR_DIFFERENCE = 32;

/**
 * What a near-duplicate look-up knows of an image (docs/api.md, "Near-duplicates"): its 64-bit
 * perceptual hash (greyscale structure; found through the band index) and its colour layout (a
 * 4 × 4 sRGB thumbnail, 96 hex digits) that confirms a candidate — the hash alone cannot tell a
 * red square from a blue one, or one flat colour from another.
 */
export interface ImageFingerprint {
  phash: string;
  colourLayout: string;
}

export async function fingerprintOf(image: Buffer): Promise<ImageFingerprint> {
  const [phash, colourLayout] = await Promise.all([PerceptualHash.of(image), colourLayoutOf(image)]);
  return { phash, colourLayout };
}

/** The image flattened on white, squeezed to 4 × 4 sRGB cells: 48 bytes as 96 hex digits. */
export async function colourLayoutOf(image: Buffer): Promise<string> {
  const data = await sharp(image, { failOn: 'none' })
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .resize(LAYOUT, LAYOUT, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
  return data.toString('hex');
}

/**
 * How far `candidate` is from `image` as a near-duplicate: its hash distance when that is at most
 * `maxDistance` bits and the colour layouts agree, otherwise null (not the same picture).
 */
export function nearDuplicateDistance(
  image: ImageFingerprint,
  candidate: ImageFingerprint,
  maxDistance: number,
): number | null {
  const distance = hammingDistance(image.phash, candidate.phash);
  if (distance > maxDistance) return null;
  return colourDifference(image.colourLayout, candidate.colourLayout) <= MAX_COLOUR_DIFFERENCE ? distance : null;
}

/** The largest channel difference between two colour layouts; Infinity when either is not one. */
export function colourDifference(a: string, b: string): number {
  if (!isColourLayout(a) || !isColourLayout(b)) return Number.POSITIVE_INFINITY;
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  let largest = 0;
  for (let i = 0; i < left.length; i++) largest = Math.max(largest, Math.abs(left[i] - right[i]));
  return largest;
}

export function isColourLayout(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{96}$/.test(value);
}
