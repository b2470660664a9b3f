import { AppError, ErrorCode } from '../common/errors/app-error';

const UNSUPPORTED_DETAIL = 'The file is not a supported image type (JPEG, PNG, WebP, GIF, AVIF or HEIC).';

/** The bytes are not one of the image types we accept (decided by magic bytes, never by name). */
export class UnsupportedImageTypeError extends AppError {
  constructor(detail = UNSUPPORTED_DETAIL, cause?: unknown) {
    super(ErrorCode.UnsupportedMediaType, detail, { cause });
    this.name = 'UnsupportedImageTypeError';
  }
}

/** Width × height, as declared by the image header, exceeds the configured pixel budget. */
export class ImageTooLargeError extends AppError {
  constructor(maxPixels: number, cause?: unknown) {
    super(ErrorCode.ImageTooLarge, `The image has more than ${maxPixels} pixels.`, { cause });
    this.name = 'ImageTooLargeError';
  }
}

/** The bytes claim to be an image but cannot be decoded completely. */
export class CorruptImageError extends AppError {
  constructor(cause?: unknown) {
    super(ErrorCode.CorruptImage, 'The image is corrupt or truncated and cannot be read.', { cause });
    this.name = 'CorruptImageError';
  }
}

export type ImageError = UnsupportedImageTypeError | ImageTooLargeError | CorruptImageError;

/**
 * Maps an error thrown by sharp/libvips to one of ours. The original stays as `cause` for the
 * logs; its message (which may quote internals) never reaches the client.
 */
export function imageErrorFromSharp(error: unknown, maxPixels: number): ImageError {
  const message = error instanceof Error ? error.message : String(error);
  if (/exceeds pixel limit/i.test(message)) {
    return new ImageTooLargeError(maxPixels, error);
  }
  // Prebuilt sharp binaries read AVIF but not patent-encumbered HEVC, so a HEIC photo fails here.
  if (/unsupported codec/i.test(message)) {
    return new UnsupportedImageTypeError('HEIC images encoded with HEVC cannot be read by this server.', error);
  }
  return new CorruptImageError(error);
}
