import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import { MulterError } from 'multer';
import { AppError, ErrorCode } from '../../common/errors/app-error';
import { ValidationFailedException } from '../../common/errors/validation.exception';
import { uploadErrorFrom } from './upload-errors';

const TEN_MB = 10 * 1024 * 1024;

function fieldErrors(error: Error): Array<{ field: string; message: string }> {
  expect(error).toBeInstanceOf(ValidationFailedException);
  return (error as ValidationFailedException).errors;
}

describe('uploadErrorFrom', () => {
  it('maps the file size limit to a 413 problem naming the limit', () => {
    const sut = uploadErrorFrom(new MulterError('LIMIT_FILE_SIZE', 'file'), TEN_MB);

    expect(sut).toBeInstanceOf(AppError);
    expect(sut).toMatchObject({ code: ErrorCode.PayloadTooLarge, status: 413 });
    expect((sut as AppError).detail).toContain('10 MB');
  });

  it.each([
    ['LIMIT_FILE_COUNT', 'file', 'file', 'exactly one file'],
    ['LIMIT_UNEXPECTED_FILE', 'image', 'image', 'exactly one file'],
    ['LIMIT_PART_COUNT', undefined, 'body', 'too many parts'],
    ['LIMIT_FIELD_COUNT', undefined, 'body', 'too many text fields'],
    ['LIMIT_FIELD_VALUE', 'metadata', 'metadata', '8 KiB'],
    ['LIMIT_FIELD_KEY', undefined, 'body', 'field name is too long'],
    ['MISSING_FIELD_NAME', undefined, 'body', 'invalid multipart field name'],
  ] as const)('maps %s to a 400 with a field error', (code, field, expectedField, message) => {
    const errors = fieldErrors(uploadErrorFrom(new MulterError(code, field), TEN_MB));
    expect(errors).toEqual([{ field: expectedField, message: expect.stringContaining(message) }]);
  });

  it('maps multer codes its types do not list (e.g. nesting) to a 400', () => {
    const error = Object.assign(new MulterError('LIMIT_FIELD_KEY'), { code: 'LIMIT_FIELD_NESTING' });
    expect(fieldErrors(uploadErrorFrom(error, TEN_MB))[0].message).toContain('invalid multipart field name');
  });

  it('keeps field names printable and short', () => {
    const errors = fieldErrors(uploadErrorFrom(new MulterError('LIMIT_UNEXPECTED_FILE', `x\u0000${'y'.repeat(100)}`), TEN_MB));
    expect(errors[0].field).toMatch(/^x\?y{62}…$/);
  });

  it.each(['Malformed part header', 'Unexpected end of form', 'Multipart: Boundary not found'])(
    'maps the busboy error "%s" to a 400 that names it',
    (message) => {
      const sut = uploadErrorFrom(new Error(message), TEN_MB);
      expect(sut).toBeInstanceOf(BadRequestException);
      expect(sut.message).toBe(`The request body is not valid multipart/form-data (${message}).`);
    },
  );

  it('maps any other parser or stream error to a generic 400 without repeating it', () => {
    const sut = uploadErrorFrom(new Error('ECONNRESET at /srv/app/node_modules/busboy/lib/x.js:12'), TEN_MB);
    expect(sut).toBeInstanceOf(BadRequestException);
    expect(sut.message).toBe('The request body is not valid multipart/form-data.');
  });

  it('passes HTTP and application errors through', () => {
    const http = new PayloadTooLargeException();
    const app = new AppError(ErrorCode.UnsupportedMediaType, 'x');
    expect(uploadErrorFrom(http, TEN_MB)).toBe(http);
    expect(uploadErrorFrom(app, TEN_MB)).toBe(app);
  });
});
