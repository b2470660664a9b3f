import { applyDecorators, SetMetadata, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiHeader,
  ApiServiceUnavailableResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { IDEMPOTENCY_KEY_HEADER, IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENT_REPLAYED_HEADER } from './idempotency-key';
import { IdempotencyKeyGuard } from './idempotency-key.guard';
import { IdempotencyInterceptor, IdempotencyReplayInterceptor } from './idempotency.interceptor';

export const IDEMPOTENT_METADATA = 'idempotent';

/**
 * `@Idempotent()` — the route honours `Idempotency-Key` (docs/api.md, Idempotency keys; docs/api.md, "Idempotency
 * keys"): the key's format is checked before the body is read, then IdempotencyInterceptor runs
 * right before the handler and IdempotencyReplayInterceptor first, wherever this decorator stands
 * among the route's other decorators (see idempotent-routes.ts).
 * Documents the header and the 400/409/422/503 it can add.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT_METADATA, true),
    UseGuards(IdempotencyKeyGuard),
    UseInterceptors(IdempotencyReplayInterceptor, IdempotencyInterceptor),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      description:
        'Makes a retry safe for 24 hours, per user. A retry with the same key and the same request (method, ' +
        `path, body) gets the first response again (same status and body, \`${IDEMPOTENT_REPLAYED_HEADER}: true\`) ` +
        'and changes nothing. Responses the operation decided (2xx, and 4xx other than 401/403/408/409/425/429) ' +
        'are kept; validation failures, 429s and 5xx are not, so a retry with the same key runs again.',
      schema: { type: 'string', minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX_LENGTH, pattern: '^[!-~]+$' },
      example: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b',
    }),
    ApiBadRequestResponse({
      description: `\`${IDEMPOTENCY_KEY_HEADER}\` is not 1–${IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters.`,
    }),
    ApiConflictResponse({
      description:
        'The first request with this Idempotency-Key is still being served (type …idempotency-key-in-flight); ' +
        'retry after Retry-After to get its response.',
      headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } },
    }),
    ApiUnprocessableEntityResponse({
      description: 'This Idempotency-Key was used for a different request (type …idempotency-key-reused).',
    }),
    ApiServiceUnavailableResponse({
      description: 'Idempotency keys cannot be checked right now (type …idempotency-unavailable); nothing ran.',
    }),
  );
