import type { Readable } from 'node:stream';

/** The formats the normaliser writes (see ImageProcessor); the store names objects after them. */
export type StoredImageFormat = 'jpeg' | 'webp';

/** Identifies one stored image: the sha256 of the upload it was made from, and its format. */
export interface StoredImageRef {
  /** Lower-case hex sha256, 64 characters. */
  sha256: string;
  format: StoredImageFormat;
}

export interface StoredImage {
  stream: Readable;
  contentType: string;
  /** Bytes, when the store knows it (always for local disk and S3). */
  size?: number;
}

/**
 * Where normalised images live, keyed by sha256 — never in the database. Every method is
 * idempotent: putting an image that exists keeps the existing one, deleting a missing one is a
 * no-op, so concurrent requests for the same image need no coordination.
 */
export interface ImageStore {
  /** `local` or `s3`, for logs and health details. */
  readonly driver: string;
  /** Stores `data` unless an image is already stored under `ref`; answers true when it wrote. */
  put(ref: StoredImageRef, data: Buffer): Promise<boolean>;
  /** The stored image, or undefined when there is none. */
  get(ref: StoredImageRef): Promise<StoredImage | undefined>;
  exists(ref: StoredImageRef): Promise<boolean>;
  delete(ref: StoredImageRef): Promise<void>;
}

/** Injection token of the configured `ImageStore` (STORAGE_DRIVER). */
export const IMAGE_STORE = Symbol('IMAGE_STORE');

const SHA256_HEX = /^[0-9a-f]{64}$/;

const EXTENSIONS: Record<StoredImageFormat, string> = { jpeg: 'jpg', webp: 'webp' };
const CONTENT_TYPES: Record<StoredImageFormat, string> = { jpeg: 'image/jpeg', webp: 'image/webp' };

export function contentTypeOf(format: StoredImageFormat): string {
  return CONTENT_TYPES[format];
}

/**
 * The object's relative key, sharded by the first two bytes of the hash so no directory (or S3
 * listing prefix) grows past 65 536 entries per level: `ab/cd/abcd…ef.jpg`. The hash is checked,
 * so a key can never leave the store's directory or prefix.
 */
export function imageObjectKey({ sha256, format }: StoredImageRef): string {
  if (!SHA256_HEX.test(sha256)) throw new RangeError('image key: sha256 must be 64 lower-case hex characters');
  const extension = EXTENSIONS[format];
  if (extension === undefined) throw new RangeError(`image key: unknown format ${String(format)}`);
  return `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}.${extension}`;
}
