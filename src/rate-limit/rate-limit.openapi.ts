import type { INestApplication, Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, Reflector } from '@nestjs/core';
import { ApiExtension } from '@nestjs/swagger';
import { RATE_LIMIT_EXTENSION, RouteRateLimit } from '../common/openapi/openapi-document';
import { RATE_LIMIT_SCOPE_KEY, RateLimitScope, SKIP_RATE_LIMIT_KEY } from './rate-limit.decorator';
import { RateLimitName, rateLimitHeaders } from './rate-limits';

/**
 * Marks every route handler with the limits that count it, read from the same metadata the
 * RateLimiter reads (`default` unless `@SkipRateLimit()`, plus the `@RateLimit(scope)`), so the
 * OpenAPI document's `X-RateLimit-*` headers and 429s cannot drift from the limiter. Call before
 * the document is created; the document finisher turns the marks into headers.
 */
export function markRateLimitedRoutes(app: INestApplication): void {
  const reflector = new Reflector();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const descriptor = Object.getOwnPropertyDescriptor(prototype, key);
        const handler = descriptor?.value as object | undefined;
        if (typeof handler !== 'function' || !Reflect.hasMetadata(METHOD_METADATA, handler)) continue;
        const targets = [handler as () => unknown, controller];
        const skip = reflector.getAllAndOverride<boolean | undefined>(SKIP_RATE_LIMIT_KEY, targets) === true;
        const scope = reflector.getAllAndOverride<RateLimitScope | undefined>(RATE_LIMIT_SCOPE_KEY, targets);
        const names: RateLimitName[] = skip ? [] : scope ? ['default', scope] : ['default'];
        const limits: RouteRateLimit[] = names.map((name) => ({ name, ...rateLimitHeaders(name) }));
        ApiExtension(RATE_LIMIT_EXTENSION, limits)(prototype, key, descriptor!);
      }
    }
  }
}
