import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { decode } from 'jsonwebtoken';
import { RequestContext } from '../../common/context/request-context';
import { IS_PUBLIC_KEY } from '../../common/decorators/public.decorator';
import { AccessRevocations } from '../access-revocations.service';
import { AccessTokenService } from '../access-token.service';
import { AuthenticatedRequest, VerifiedAccessToken } from '../auth.types';
import { bearerToken } from '../bearer-token';
import { IS_ADMIN_KEY } from '../decorators/admin.decorator';
import { ExternalIdentityService } from '../external-identity.service';
import { PROVIDER_TOKEN_VERIFIERS, ProviderTokenVerifier } from '../providers/provider-token.verifier';
import { VerifiedTokens } from './verified-tokens';

const UNAUTHORIZED_DETAIL = 'A valid access token is required (Authorization: Bearer <token>).';

/** How many distinct verified tokens are remembered, and for how long at most. */
const VERIFIED_TOKENS_MAX_ENTRIES = 10_000;
const VERIFIED_TOKENS_MAX_AGE_MS = 60_000;

/** Every route under this prefix is admin-only, whatever its decorators say. */
const ADMIN_ROUTE_PREFIX = '/v1/admin';

/**
 * The global guard: every route needs a valid access token unless marked `@Public()`, and every
 * `/v1/admin` route (or `@AdminOnly()` one) needs the `admin` role — anyone else gets the 404 of
 * an unknown route. Sets `req.user`, `req.accessToken` and the request context's user id.
 *
 * The header is read by the one strict bearer parser (bearer-token.ts). A token is verified by
 * the issuer it names: Argus's own (AccessTokenService: HS256, JWT_SECRET or JWT_SECRET_PREVIOUS)
 * or a configured identity provider's (JWKS or shared secret), whose identity is then linked to
 * an account (ExternalIdentityService). A verified token is remembered until it expires (at most
 * a minute, see VerifiedTokens); revocations (logout, logout-all, disabled accounts) are checked on
 * every request, remembered or not, so they take effect at once.
 */
@Injectable()
export class JwtAuthGuard implements CanActivate {
  private readonly logger = new Logger(JwtAuthGuard.name);
  private readonly verified = new VerifiedTokens(VERIFIED_TOKENS_MAX_ENTRIES, VERIFIED_TOKENS_MAX_AGE_MS);
  /** Each handler's `@Public()` / `@AdminOnly()` flags: fixed at start-up, so read once per handler. */
  private readonly routeFlags = new WeakMap<object, { isPublic: boolean; isAdmin: boolean }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly accessTokens: AccessTokenService,
    @Inject(PROVIDER_TOKEN_VERIFIERS) private readonly providers: ProviderTokenVerifier[],
    private readonly identities: ExternalIdentityService,
    private readonly revocations: AccessRevocations,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const req = context.switchToHttp().getRequest<Request>();
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return this.reject('no well-formed bearer header');

    let verified = this.verified.get(token);
    if (verified === undefined) {
      const outcome = await this.verify(token);
      if (typeof outcome === 'string') return this.reject(outcome);
      verified = outcome;
      this.verified.remember(token, verified);
    }
    if (!this.revocations.allows(verified)) return this.reject('token revoked');
    if (this.requiresAdmin(context, req) && verified.user.role !== 'admin') {
      throw new NotFoundException(`Cannot ${req.method} ${req.url}`);
    }
    return admit(req, verified);
  }

  /**
   * Admits a request whose bearer token is one already verified and not revoked, without awaiting
   * anything; false (and nothing set) otherwise, for `canActivate` to decide and explain.
   */
  admitRemembered(context: ExecutionContext): boolean {
    if (this.isPublic(context)) return false;
    const req = context.switchToHttp().getRequest<Request>();
    const token = bearerToken(req.headers.authorization);
    const known = token === undefined ? undefined : this.verified.get(token);
    if (known === undefined || !this.revocations.allows(known)) return false;
    if (known.user.role !== 'admin' && this.requiresAdmin(context, req)) return false;
    return admit(req, known);
  }

  /** The verified token, or why not (for the debug log; never the token itself). */
  private async verify(token: string): Promise<VerifiedAccessToken | string> {
    const decoded = decode(token, { complete: true, json: true });
    if (decoded === null || typeof decoded.payload !== 'object') return 'not a JWT';
    const issuer = decoded.payload.iss;
    if (issuer === this.accessTokens.expectedClaims.issuer) {
      return this.accessTokens.verify(token, decoded.header) ?? 'invalid access token';
    }
    const provider = this.providers.find((candidate) => candidate.issuer === issuer);
    if (provider === undefined) return 'unknown issuer';
    const claims = await provider.verify(token, decoded.header);
    if (claims === null) return 'invalid identity-provider token';
    return (await this.identities.tokenFor(provider.issuer, claims, token)) ?? 'no account for this identity';
  }

  private isPublic(context: ExecutionContext): boolean {
    return this.flagsOf(context).isPublic;
  }

  private requiresAdmin(context: ExecutionContext, req: Request): boolean {
    const template = (req.route as { path?: unknown } | undefined)?.path;
    const underAdmin =
      typeof template === 'string' &&
      (template.toLowerCase() === ADMIN_ROUTE_PREFIX || template.toLowerCase().startsWith(`${ADMIN_ROUTE_PREFIX}/`));
    return underAdmin || this.flagsOf(context).isAdmin;
  }

  private flagsOf(context: ExecutionContext): { isPublic: boolean; isAdmin: boolean } {
    const handler = context.getHandler();
    let flags = this.routeFlags.get(handler);
    if (flags === undefined) {
      const targets = [handler, context.getClass()];
      flags = {
        isPublic: this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets) === true,
        isAdmin: this.reflector.getAllAndOverride<boolean | undefined>(IS_ADMIN_KEY, targets) === true,
      };
      this.routeFlags.set(handler, flags);
    }
    return flags;
  }

  private reject(reason: string): never {
    this.logger.debug({ msg: 'access token rejected', reason });
    throw new UnauthorizedException(UNAUTHORIZED_DETAIL);
  }
}

function admit(req: Request, verified: VerifiedAccessToken): true {
  const authenticated = req as AuthenticatedRequest;
  authenticated.user = verified.user;
  authenticated.accessToken = verified;
  RequestContext.setUserId(verified.user.id);
  return true;
}
