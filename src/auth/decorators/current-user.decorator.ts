import { createParamDecorator, ExecutionContext, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AuthenticatedUser } from '../auth.types';

/** The authenticated caller, as the global JwtAuthGuard put it on the request. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const user = context.switchToHttp().getRequest<Request>().user as AuthenticatedUser | undefined;
  // Only reachable on a route marked @Public(): a programming error, answered as unauthenticated.
  if (!user) throw new UnauthorizedException('A valid access token is required.');
  return user;
});
