import { createParamDecorator, ExecutionContext, UnauthorizedException } from '@nestjs/common';
import { AuthenticatedRequest, AuthenticatedUser, VerifiedAccessToken } from '../auth.types';

/** The authenticated caller, as the global JwtAuthGuard put it on the request. */
export const CurrentUser = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedUser => {
  const user = context.switchToHttp().getRequest<Partial<AuthenticatedRequest>>().user;
  // Only reachable on a route marked @Public(): a programming error, answered as unauthenticated.
  if (!user) throw new UnauthorizedException('A valid access token is required.');
  return user;
});

/** The access token the request was authenticated with (what `logout` revokes). */
export const CurrentAccessToken = createParamDecorator(
  (_data: unknown, context: ExecutionContext): VerifiedAccessToken => {
    const token = context.switchToHttp().getRequest<Partial<AuthenticatedRequest>>().accessToken;
    if (!token) throw new UnauthorizedException('A valid access token is required.');
    return token;
  },
);
