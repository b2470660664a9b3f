import { createHash } from 'node:crypto';
import type { Request } from 'express';

/** What makes two requests "the same request" for an idempotency key (docs/api.md, Idempotency keys). */
export interface FingerprintParts {
  method: string;
  /** The request path with its parameters, without the query string (`/v1/ip/1.2.3.4/reports`). */
  path: string;
  /** The parsed body: the JSON value, or a multipart request's text fields. */
  body: unknown;
  /** The uploaded files' bytes, in the order they were sent. */
  files: readonly Buffer[];
}

/**
 * sha256 (hex) over the method, the path and the canonical JSON of the body, with each uploaded
 * file as the sha256 of its bytes. Canonical: object keys sorted at every depth, so a client that
 * serialises the same body with its keys in another order sends the same request; array order
 * and every value (types included) count.
 */
export function requestFingerprint(parts: FingerprintParts): string {
  return sha256(
    canonicalJson({
      method: parts.method.toUpperCase(),
      path: parts.path,
      body: parts.body ?? null,
      files: parts.files.map(sha256),
    }),
  );
}

/** JSON with every object's keys in sorted order (arrays keep theirs); `undefined` members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) => (isPlainObject(member) ? sortedKeys(member) : member));
}

/** The fingerprint of an Express request as Nest hands it to the route's interceptors, its body parsed. */
export function fingerprintOf(req: Request): string {
  return requestFingerprint({
    method: req.method,
    path: (req.originalUrl ?? req.url).split('?', 1)[0],
    body: req.body as unknown,
    files: uploadedFiles(req),
  });
}

/**
 * The bytes of every file the route's upload parsing left on the request: multer's `req.file` /
 * `req.files` (array or by field), and uploads a room keeps under its own symbol-keyed property
 * (the analysis room moves `req.file` to `req[Symbol(imageUpload)]`, an object exposing `bytes`, and
 * a batch's files to `req[Symbol(batchUpload)]`, `[{ upload } | { error }]`).
 * Only symbols whose description names an upload are read, never Node's own internals. The e2e
 * suite pins this: two uploads that differ only in their image must not share a fingerprint.
 */
export function uploadedFiles(req: Request): Buffer[] {
  const files: Buffer[] = [];
  const add = (value: unknown): void => {
    if (Buffer.isBuffer(value)) files.push(value);
    else if (Array.isArray(value)) value.forEach(add);
    // A part refused while it was read (a batch's file over the size limit) keeps its place.
    else if (value instanceof Error) files.push(Buffer.alloc(0));
    else if (typeof value === 'object' && value !== null) {
      const { buffer, bytes } = value as { buffer?: unknown; bytes?: unknown };
      if (Buffer.isBuffer(buffer)) files.push(buffer);
      else if (Buffer.isBuffer(bytes)) files.push(bytes);
      else if (isPlainObject(value)) Object.values(value).forEach(add);
    }
  };
  const holder = req as unknown as Record<PropertyKey, unknown>;
  add(holder.file);
  add(holder.files);
  for (const symbol of Object.getOwnPropertySymbols(req)) {
    if (/upload/i.test(symbol.description ?? '')) add(holder[symbol]);
  }
  return files;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  // multer's text fields live in an object without a prototype.
  return prototype === Object.prototype || prototype === null;
}

function sortedKeys(value: Record<string, unknown>): Record<string, unknown> {
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    // defineProperty, not assignment: a `__proto__` key stays data, as JSON.parse made it.
    Object.defineProperty(sorted, key, { value: value[key], enumerable: true, writable: true, configurable: true });
  }
  return sorted;
}
