import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiNotFoundResponse } from '@nestjs/swagger';
import { Authenticated } from './auth.decorator';

export const IS_ADMIN_KEY = 'isAdminOnly';

/**
 * `@AdminOnly()` — the route needs an access token of an account with the `admin` role; anyone
 * else gets the 404 of an unknown route, so the admin surface is not even revealed. Every route
 * under `/v1/admin` is admin-only whether or not it carries this decorator (the global guard
 * checks the route's path); the decorator documents it and covers routes elsewhere.
 */
export const AdminOnly = (): ClassDecorator & MethodDecorator =>
  applyDecorators(
    SetMetadata(IS_ADMIN_KEY, true),
    Authenticated(),
    ApiNotFoundResponse({ description: 'Not found — also the answer to anyone without the admin role.' }),
  );
