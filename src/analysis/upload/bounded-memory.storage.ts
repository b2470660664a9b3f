import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { Readable } from 'node:stream';

type FileInfo = Partial<Express.Multer.File>;
type Callback = (error?: Error | null, info?: FileInfo) => void;

/**
 * multer's memory storage, with two changes:
 * - the moment a file passes `limits.fileSize` the bytes received so far are dropped and the
 *   request's listener is told, so the 413 can be answered while the client is still sending
 *   (multer itself only reports the limit once the whole body has been drained);
 * - when the request declares its length, the file is copied into one buffer of that size as it
 *   arrives, instead of keeping every chunk and concatenating them at the end, which briefly holds
 *   each upload twice.
 */
export class BoundedMemoryStorage implements StorageEngine {
  private readonly limitListeners = new WeakMap<Request, () => void>();

  constructor(private readonly maxFileSizeBytes: number) {}

  /** Calls `onLimit` (once) if a file of this request exceeds the size limit; returns an untrack function. */
  track(req: Request, onLimit: () => void): () => void {
    this.limitListeners.set(req, onLimit);
    return () => this.limitListeners.delete(req);
  }

  _handleFile(req: Request, file: Express.Multer.File, callback: Callback): void {
    const stream: Readable = file.stream;
    const sink = new FileSink(this.capacityFor(req));
    let truncated = false;
    stream.on('data', (chunk: Buffer) => {
      if (!truncated) sink.append(chunk);
    });
    stream.on('limit', () => {
      truncated = true;
      sink.clear();
      this.limitListeners.get(req)?.();
    });
    stream.on('end', () => {
      const buffer = truncated ? Buffer.alloc(0) : sink.contents();
      sink.clear();
      callback(null, { buffer, size: buffer.length });
    });
  }

  /** The declared body length bounds the file; busboy passes at most `maxFileSizeBytes + 1` bytes on. */
  private capacityFor(req: Request): number | undefined {
    const declared = Number(req.headers['content-length']);
    return Number.isSafeInteger(declared) && declared > 0 ? Math.min(declared, this.maxFileSizeBytes + 1) : undefined;
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    file.buffer = Buffer.alloc(0);
    callback(null);
  }
}

/** Collects a file's bytes: into one preallocated buffer when its bound is known, else as chunks. */
class FileSink {
  private chunks: Buffer[] = [];
  private buffer: Buffer | undefined;
  private size = 0;

  constructor(capacity: number | undefined) {
    this.buffer = capacity === undefined ? undefined : Buffer.allocUnsafe(capacity);
  }

  append(chunk: Buffer): void {
    if (this.buffer && this.size + chunk.length <= this.buffer.length) {
      chunk.copy(this.buffer, this.size);
    } else {
      if (this.buffer) this.chunks.push(this.buffer.subarray(0, this.size));
      this.buffer = undefined;
      this.chunks.push(chunk);
    }
    this.size += chunk.length;
  }

  contents(): Buffer {
    // No copy: the spare capacity is only the rest of the body (part headers and text fields).
    return this.buffer ? this.buffer.subarray(0, this.size) : Buffer.concat(this.chunks, this.size);
  }

  clear(): void {
    this.chunks = [];
    this.buffer = undefined;
  }
}

/**
 * For a batch: every file bounded on its own (multer is given no `fileSize`, which would end the
 * whole request at the first large file). A file past the limit keeps being read but its bytes
 * are dropped at once, and it is marked `tooLarge`, so the batch answers it with its own 413 item
 * and goes on with the other files.
 */
export class PerFileBoundedStorage implements StorageEngine {
  constructor(private readonly maxFileSizeBytes: number) {}

  _handleFile(_req: Request, file: Express.Multer.File, callback: Callback): void {
    const stream: Readable = file.stream;
    const sink = new FileSink(undefined);
    let received = 0;
    let tooLarge = false;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (tooLarge) return;
      if (received > this.maxFileSizeBytes) {
        tooLarge = true;
        sink.clear();
        return;
      }
      sink.append(chunk);
    });
    stream.on('end', () => {
      const buffer = tooLarge ? Buffer.alloc(0) : sink.contents();
      sink.clear();
      callback(null, { buffer, size: buffer.length, tooLarge } as FileInfo);
    });
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    file.buffer = Buffer.alloc(0);
    callback(null);
  }
}
