import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { fileMissing } from './upload-errors';

/**
 * The bytes of one upload, owned by its analysis and released as soon as they are no longer needed
 * (once normalised), so a request waiting seconds for the AI provider does not keep a body of up to
 * MAX_FILE_SIZE_MB alive. ImageUploadInterceptor moves the file here from `req.file`, which would
 * otherwise hold it until the response is sent.
 */
export class ImageUpload {
  readonly size: number;
  private data: Buffer | undefined;

  constructor(data: Buffer) {
    this.data = data;
    this.size = data.length;
  }

  get bytes(): Buffer {
    if (!this.data) throw new Error('ImageUpload: the bytes were already released');
    return this.data;
  }

  release(): void {
    this.data = undefined;
  }
}

const IMAGE_UPLOAD = Symbol('imageUpload');

type RequestWithUpload = Request & { [IMAGE_UPLOAD]?: ImageUpload };

/** Takes the file multer read off `req.file` and keeps it as the request's `ImageUpload`. */
export function takeUploadedFile(req: Request): ImageUpload | undefined {
  const file = req.file;
  if (!file) return undefined;
  req.file = undefined;
  const upload = new ImageUpload(file.buffer);
  (req as RequestWithUpload)[IMAGE_UPLOAD] = upload;
  return upload;
}

/** The request's upload, as ImageUploadInterceptor left it (use with that interceptor only). */
export const UploadedImage = createParamDecorator((_data: unknown, context: ExecutionContext): ImageUpload => {
  const upload = context.switchToHttp().getRequest<RequestWithUpload>()[IMAGE_UPLOAD];
  if (!upload) throw fileMissing();
  return upload;
});
