import { BadRequestException } from '@nestjs/common';
import type { Request } from 'express';
import { AppError, ErrorCode } from '../errors/app-error';
import { ValidationFailedException } from '../errors/validation.exception';
import { bodyShapeProblems, jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../validation/body-shape';

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;
const FIRST_SIGNIFICANT = /^[\s\uFEFF]*(.)/;

/** True when the request says it carries a JSON body. */
export function hasJsonBody(req: Request): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && JSON_MEDIA_TYPE.test(type);
}

/**
 * Reads and parses a JSON body (docs/api.md, "Request hygiene"):
 * - a `Content-Length` over the limit is refused before a byte is read, a body that grows past it
 *   as soon as it does — never drained to the end, unlike body-parser, which reads the whole of a
 *   refused body first;
 * - nesting deeper than MAX_JSON_DEPTH is refused before JSON.parse;
 * - reserved keys and malformed strings anywhere are refused before any DTO sees them.
 * Only UTF-8 and no `Content-Encoding` (415 otherwise). An empty body is `{}`, as body-parser gave.
 */
export async function readJsonBody(req: Request, limitBytes: number): Promise<unknown> {
  checkHeaders(req, limitBytes);
  const text = (await readLimited(req, limitBytes)).toString('utf8');
  if (text.trim() === '') return {};
  // Strict, as body-parser was: the body is an object or an array, nothing else.
  const first = FIRST_SIGNIFICANT.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw notJson();
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH)) {
    throw new BadRequestException(`The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw notJson();
  }
  const problems = bodyShapeProblems(body);
  if (problems.length > 0) throw new ValidationFailedException(problems);
  return body;
}

function checkHeaders(req: Request, limitBytes: number): void {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new AppError(ErrorCode.UnsupportedMediaType, 'A JSON body must not be compressed (Content-Encoding).');
  }
  const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new AppError(ErrorCode.UnsupportedMediaType, 'A JSON body must be UTF-8.');
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limitBytes) throw bodyTooLarge();
}

/** The body's bytes, or a 413 the moment it passes `limitBytes` (the rest is left unread). */
function readLimited(req: Request, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        req.pause();
        reject(bodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new BadRequestException('The request body could not be read.', { cause: error }));
    };
    const onClose = (): void => onError(new Error('the client closed the connection'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function bodyTooLarge(): AppError {
  return new AppError(ErrorCode.PayloadTooLarge, 'The request body is too large.');
}

function notJson(): BadRequestException {
  return new BadRequestException('The request body is not valid JSON.');
}
