import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { Public } from '../../common/decorators/public.decorator';
import { ApiProblems } from '../../common/openapi/api-problems.decorator';

/**
 * Auth metadata and its Swagger description in one place, so the docs cannot drift from the guard.
 *
 * `@Authenticated()` — the route needs a bearer access token (the global JwtAuthGuard's default);
 * documents the bearer scheme and the 401 problem. Use it on every protected controller or route.
 */
export const Authenticated = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    ApiBearerAuth(),
    // The Problem body; the finisher adds `WWW-Authenticate: Bearer` to every 401 (docs/api.md).
    ApiProblems(401),
  );

/** `@Anonymous()` — no token needed: opts out of the global JwtAuthGuard; no security in the docs. */
export const Anonymous = (): ClassDecorator & MethodDecorator => applyDecorators(Public());
