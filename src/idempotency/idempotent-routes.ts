import { Injectable } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { IDEMPOTENT_METADATA } from './idempotent.decorator';
import { IdempotencyInterceptor, IdempotencyReplayInterceptor } from './idempotency.interceptor';

/**
 * On every `@Idempotent()` route, makes IdempotencyInterceptor the last interceptor, so it runs
 * after whatever parses the request (an upload interceptor) and right before the handler's pipes,
 * and IdempotencyReplayInterceptor the first, so a replayed response passes no interceptor that
 * would map a handler's value (one that sets the status from it). Nest runs a method's
 * interceptors in the order its decorators left them, which would otherwise depend on where
 * `@Idempotent()` stands beside `@UseInterceptors(...)`.
 *
 * Done in the constructor: Nest builds every provider before it registers routes (and reads their
 * interceptors), and registers routes before any `onModuleInit` hook runs.
 */
@Injectable()
export class IdempotentRoutes {
  constructor(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector) {
    for (const controller of discovery.getControllers()) {
      const prototype = (controller.metatype as { prototype?: object } | undefined)?.prototype;
      if (!prototype) continue;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = (prototype as Record<string, unknown>)[name];
        if (typeof handler === 'function' && reflector.get<boolean>(IDEMPOTENT_METADATA, handler)) {
          placeIdempotencyInterceptors(handler);
        }
      }
    }
  }
}

export function placeIdempotencyInterceptors(handler: object): void {
  const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[];
  const others = interceptors.filter((i) => i !== IdempotencyInterceptor && i !== IdempotencyReplayInterceptor);
  Reflect.defineMetadata(
    INTERCEPTORS_METADATA,
    [IdempotencyReplayInterceptor, ...others, IdempotencyInterceptor],
    handler,
  );
}
