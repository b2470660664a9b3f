import {
  CallHandler,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  Logger,
  NestInterceptor,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Request, RequestHandler, Response } from 'express';
import multer from 'multer';
import type { Observable } from 'rxjs';
import { AppError, ErrorCode } from '../../common/errors/app-error';
import { ValidationFailedException } from '../../common/errors/validation.exception';
import { AppConfig } from '../../config/config.types';
import { PerFileBoundedStorage } from './bounded-memory.storage';
import { ImageUpload } from './image-upload';
import { MULTIPART_LIMITS, MULTIPART_OVERHEAD_BYTES } from './image-upload.interceptor';
import { fileTooLarge, uploadErrorFrom } from './upload-errors';

/** The multipart part name of a batch's files (docs/api.md, Image analysis). */
export const BATCH_FILES_FIELD = 'files';

/** One file of a batch: its bytes, or why it was refused before any image work (too large). */
export type BatchFile = { upload: ImageUpload; error?: undefined } | { upload?: undefined; error: AppError };

const BATCH = Symbol('batchUpload');
type RequestWithBatch = Request & { [BATCH]?: BatchFile[] };
type BatchPart = Express.Multer.File & { tooLarge?: boolean };

/**
 * Reads the `files` parts of `POST /v1/analyses/batch` (1 to BATCH_MAX_FILES), each bounded by
 * MAX_FILE_SIZE_MB on its own: a file too large becomes that file's 413, the others go on. No file,
 * more files than allowed, a file in another part, or a body that cannot fit the allowed files
 * (by Content-Length) refuses the whole request, unread where it can.
 */
@Injectable()
export class BatchUploadInterceptor implements NestInterceptor {
  private readonly logger = new Logger(BatchUploadInterceptor.name);
  private readonly receiveFiles: RequestHandler;
  private readonly maxFileSizeBytes: number;
  private readonly maxFiles: number;

  constructor(config: ConfigService<AppConfig, true>) {
    this.maxFileSizeBytes = config.get('limits.maxFileSizeBytes', { infer: true });
    this.maxFiles = config.get('analysis.batchMaxFiles', { infer: true });
    this.receiveFiles = multer({
      storage: new PerFileBoundedStorage(this.maxFileSizeBytes),
      limits: { ...MULTIPART_LIMITS, files: this.maxFiles, parts: this.maxFiles + MULTIPART_LIMITS.fields },
    }).array(BATCH_FILES_FIELD, this.maxFiles);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<RequestWithBatch>();
    const declared = Number(req.headers['content-length']);
    if (declared > this.maxFiles * (this.maxFileSizeBytes + MULTIPART_OVERHEAD_BYTES)) {
      this.logger.log({ msg: 'batch refused', reason: 'content-length over limit', contentLength: declared });
      throw new AppError(
        ErrorCode.PayloadTooLarge,
        `The batch is larger than ${this.maxFiles} files of MAX_FILE_SIZE_MB each can be; send fewer or smaller files.`,
      );
    }
    await this.receive(req, http.getResponse<Response>());
    const parts = (req.files ?? []) as BatchPart[];
    req.files = undefined;
    if (parts.length === 0) throw this.invalidFiles('required: send 1 to');
    req[BATCH] = parts.map((part) =>
      part.tooLarge ? { error: fileTooLarge(this.maxFileSizeBytes) } : { upload: new ImageUpload(part.buffer) },
    );
    return next.handle();
  }

  private receive(req: Request, res: Response): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.receiveFiles(req, res, (error?: unknown) => {
        if (!error) return resolve();
        this.logger.log({
          msg: 'batch refused',
          reason: error instanceof multer.MulterError ? error.code : 'parser error',
        });
        const tooManyFiles =
          error instanceof multer.MulterError && ['LIMIT_FILE_COUNT', 'LIMIT_UNEXPECTED_FILE'].includes(error.code);
        reject(tooManyFiles ? this.invalidFiles('send 1 to') : uploadErrorFrom(error, this.maxFileSizeBytes));
      });
    });
  }

  private invalidFiles(lead: string): ValidationFailedException {
    return new ValidationFailedException([
      {
        field: BATCH_FILES_FIELD,
        message: `${lead} ${this.maxFiles} images, each in a part named "${BATCH_FILES_FIELD}", and only there`,
      },
    ]);
  }
}

/** The batch's files, as BatchUploadInterceptor left them (use with that interceptor only). */
export const UploadedBatch = createParamDecorator((_data: unknown, context: ExecutionContext): BatchFile[] => {
  return context.switchToHttp().getRequest<RequestWithBatch>()[BATCH] ?? [];
});
