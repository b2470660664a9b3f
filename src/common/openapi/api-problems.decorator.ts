import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { problemContent } from './problem.schema';

/** The error statuses an operation can list; each answers with the `Problem` schema. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503 | 504;

/** What each status means in this API when an operation says nothing more specific (docs/api.md, "Errors"). */
export const PROBLEM_DESCRIPTIONS: Record<ProblemStatus, string> = {
  400: 'Invalid input (`…validation-failed`): `errors` lists each field and what is wrong with it.',
  401: 'Missing, invalid, expired or revoked access token (`WWW-Authenticate: Bearer`).',
  403: 'Refused.',
  404: 'No such resource for this caller (another user’s resource is also 404).',
  408: 'The request did not arrive in time (headers within 10 s, the whole request within REQUEST_TIMEOUT_S).',
  409: 'Conflicts with the current state.',
  413: 'The body is larger than the limit (decided from Content-Length or while streaming).',
  415: 'The body is not a supported media type.',
  422: 'Well-formed but cannot be processed.',
  429: 'A rate limit is exhausted (`…rate-limited`): retry after Retry-After seconds.',
  500: 'Unexpected failure: a problem without internals, logged and reported with its requestId.',
  502: 'An upstream provider failed.',
  503: 'A dependency is unavailable (database, circuit open): retry after Retry-After when given.',
  504: 'An upstream provider did not answer in time.',
};

/** A status, or a status with what it means for this operation. */
export type ProblemEntry = ProblemStatus | [ProblemStatus, string];

/**
 * `@ApiProblems(400, 404, [409, 'The endpoint is disabled.'])` — error responses with the `Problem`
 * schema (`application/problem+json`). Headers that follow from the status (`WWW-Authenticate` on
 * 401, `Retry-After` on 429/503, the route's `X-RateLimit-*`) are added by the document finisher
 * (src/common/openapi/openapi-document.ts), so every operation gets them the same way.
 */
export const ApiProblems = (...entries: ProblemEntry[]): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ...entries.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, PROBLEM_DESCRIPTIONS[entry]];
      return ApiResponse({ status, description, content: problemContent() });
    }),
  );
