import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Public } from '../../common/decorators/public.decorator';

/**
 * Auth metadata and its Swagger description in one place, so the docs cannot drift from the guard.
 *
 * `@Authenticated()` — the route needs a bearer access token (the global JwtAuthGuard's default);
 * documents the bearer scheme and the 401. Use it on every protected controller or route.
 */
export const Authenticated = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ApiBearerAuth(),
    ApiUnauthorizedResponse({
      description: 'Missing, invalid or expired access token (problem+json, `WWW-Authenticate: Bearer`).',
    }),
  );

/** `@Anonymous()` — no token needed: opts out of the global JwtAuthGuard; no security in the docs. */
export const Anonymous = (): ClassDecorator & MethodDecorator => applyDecorators(Public());
