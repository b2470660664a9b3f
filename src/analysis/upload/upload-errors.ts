import { BadRequestException, HttpException } from '@nestjs/common';
import { MulterError } from 'multer';
import { AppError, ErrorCode } from '../../common/errors/app-error';
import { ValidationFailedException } from '../../common/errors/validation.exception';

export const FILE_FIELD = 'file';

/** Parser messages that describe the client's body and are safe to repeat (busboy 1.x). */
const MALFORMED_BODY_MESSAGES = [
  /^Malformed part header$/,
  /^Unexpected end of form$/,
  /^Unexpected end of file$/,
  /^Multipart: Boundary not found$/,
  /^Malformed content type$/,
  /^Unsupported content type: [\w.+/-]{1,100}$/,
];

export function fileTooLarge(maxFileSizeBytes: number): AppError {
  return new AppError(
    ErrorCode.PayloadTooLarge,
    `The file is larger than the limit of ${formatMegabytes(maxFileSizeBytes)} (MAX_FILE_SIZE_MB).`,
  );
}

export function fileMissing(): ValidationFailedException {
  return new ValidationFailedException([
    { field: FILE_FIELD, message: 'required: send multipart/form-data with one image in a part named "file"' },
  ]);
}

/**
 * Turns whatever multer or busboy reported while reading an upload into a 4xx the client can act
 * on: 413 for the size limit, 400 with `errors` for a limit or field problem, 400 for a body that is
 * not valid multipart. Every parser error is the client's body's fault; none becomes a 500.
 */
export function uploadErrorFrom(error: unknown, maxFileSizeBytes: number): Error {
  if (error instanceof HttpException || error instanceof AppError) return error;
  if (error instanceof MulterError) return fromMulterError(error, maxFileSizeBytes);
  const message = error instanceof Error ? error.message : '';
  const reason = MALFORMED_BODY_MESSAGES.some((pattern) => pattern.test(message)) ? ` (${message})` : '';
  return new BadRequestException(`The request body is not valid multipart/form-data${reason}.`);
}

function fromMulterError(error: MulterError, maxFileSizeBytes: number): Error {
  const field = error.field ? displayField(error.field) : undefined;
  switch (error.code) {
    case 'LIMIT_FILE_SIZE':
      return fileTooLarge(maxFileSizeBytes);
    case 'LIMIT_FILE_COUNT':
    case 'LIMIT_UNEXPECTED_FILE':
      return invalid(field ?? FILE_FIELD, 'exactly one file is accepted, in the part named "file"');
    case 'LIMIT_PART_COUNT':
      return invalid('body', 'too many parts: send one file and at most the fields "prompt" and "metadata"');
    case 'LIMIT_FIELD_COUNT':
      return invalid('body', 'too many text fields: only "prompt" and "metadata" are accepted');
    case 'LIMIT_FIELD_VALUE':
      return invalid(field ?? 'body', 'text fields must be at most 8 KiB');
    case 'LIMIT_FIELD_KEY':
      return invalid('body', 'a field name is too long');
    default:
      return invalid(field ?? 'body', 'invalid multipart field name');
  }
}

function invalid(field: string, message: string): ValidationFailedException {
  return new ValidationFailedException([{ field, message }]);
}

/** Field names come from the client: keep them short and printable in the problem body. */
function displayField(field: string): string {
  const printable = field.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 64 ? `${printable.slice(0, 64)}…` : printable;
}

function formatMegabytes(bytes: number): string {
  const megabytes = bytes / (1024 * 1024);
  return `${Number.isInteger(megabytes) ? megabytes : megabytes.toFixed(1)} MB`;
}
