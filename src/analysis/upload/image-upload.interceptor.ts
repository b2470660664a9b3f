import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { Observable } from 'rxjs';
import { AppConfig } from '../../config/config.types';
import { BoundedMemoryStorage } from './bounded-memory.storage';
import { takeUploadedFile } from './image-upload';
import { FILE_FIELD, fileMissing, fileTooLarge, uploadErrorFrom } from './upload-errors';

/**
 * Every multipart limit (docs/api.md, Image analysis; multer leaves most unlimited): one file, at most 5 parts
 * (the file, `prompt`, `metadata` and slack for clients that add a field), 4 text fields of at most
 * 8 KiB, short field names, 100 header lines per part. `fileSize` comes from MAX_FILE_SIZE_MB.
 */
export const MULTIPART_LIMITS = {
  files: 1,
  parts: 5,
  fields: 4,
  fieldSize: 8 * 1024,
  fieldNameSize: 64,
  headerPairs: 100,
} as const;

/**
 * The most a valid body can add around a file of the maximum size: 4 fields × 8 KiB, 5 part headers
 * (busboy refuses one over 16 KiB) and the boundaries. A `Content-Length` above max + this is refused
 * before a byte of the body is read.
 */
export const MULTIPART_OVERHEAD_BYTES = 128 * 1024;

/**
 * Reads the `file` part of an upload into memory, bounded, for `@UploadedImage()`; `prompt` and
 * `metadata` land in `req.body` for the DTO. Too large → 413 as soon as that is known (from
 * Content-Length, or the moment the file passes the limit while streaming), not after the whole
 * body has arrived; no file → 400; any multer/busboy error → a 4xx problem (see upload-errors.ts).
 * Runs after the guards, so unauthenticated or rate-limited uploads are refused unread. A refusal
 * sent while the client is still sending closes the connection rather than draining the rest
 * (the problem filter, via closeIfBodyUnread; docs/api.md, "Request hygiene").
 */
@Injectable()
export class ImageUploadInterceptor implements NestInterceptor {
  private readonly logger = new Logger(ImageUploadInterceptor.name);
  private readonly storage: BoundedMemoryStorage;
  private readonly receiveFile: RequestHandler;
  private readonly maxFileSizeBytes: number;

  constructor(config: ConfigService<AppConfig, true>) {
    this.maxFileSizeBytes = config.get('limits.maxFileSizeBytes', { infer: true });
    this.storage = new BoundedMemoryStorage(this.maxFileSizeBytes);
    this.receiveFile = multer({
      storage: this.storage,
      limits: { ...MULTIPART_LIMITS, fileSize: this.maxFileSizeBytes },
    }).single(FILE_FIELD);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();

    const declared = Number(req.headers['content-length']);
    if (declared > this.maxFileSizeBytes + MULTIPART_OVERHEAD_BYTES) {
      this.logger.log({ msg: 'upload refused', reason: 'content-length over limit', contentLength: declared });
      throw fileTooLarge(this.maxFileSizeBytes);
    }

    await this.receive(req, res);
    if (!takeUploadedFile(req)) throw fileMissing();
    return next.handle();
  }

  private receive(req: Request, res: Response): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const untrack = this.storage.track(req, () => {
        this.logger.log({ msg: 'upload refused', reason: 'file over limit while streaming' });
        reject(fileTooLarge(this.maxFileSizeBytes));
      });
      this.receiveFile(req, res, (error?: unknown) => {
        untrack();
        if (!error) return resolve();
        this.logger.log({ msg: 'upload refused', reason: parserReason(error) });
        // After an early 413 this second settle is a no-op.
        reject(uploadErrorFrom(error, this.maxFileSizeBytes));
      });
    });
  }
}

function parserReason(error: unknown): string {
  if (error instanceof multer.MulterError) return error.code;
  return error instanceof Error ? error.message.slice(0, 200) : 'unknown parser error';
}
