import { generateKeyPairSync, JsonWebKey, KeyObject } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { sign, SignOptions } from 'jsonwebtoken';
import { FakeServer, RecordedRequest } from './fake-server';

export const JWKS_PATH = '/.well-known/jwks.json';

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A key pair generated for this test run: RSA 2048 for RS256, P-256 for ES256. */
export function generateSigningKey(alg: SigningKey['alg'], kid: string): SigningKey {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicKey };
}

/**
 * An identity provider's JWKS endpoint (Supabase, Auth0, Cognito all serve one): a real HTTP server
 * publishing the public half of its keys at `/.well-known/jwks.json`, and signing tokens with the
 * private half the way the provider would.
 */
export class JwksFake extends FakeServer {
  readonly issuer = 'https://idp.example.test/';
  readonly audience = 'argus-external';
  private readonly published: SigningKey[];

  constructor(keys: SigningKey[] = [generateSigningKey('RS256', 'rsa-1'), generateSigningKey('ES256', 'ec-1')]) {
    super();
    this.published = keys;
  }

  get jwksUrl(): string {
    return `${this.url}${JWKS_PATH}`;
  }

  key(kid: string): SigningKey {
    const key = this.published.find((candidate) => candidate.kid === kid);
    if (!key) throw new Error(`no key ${kid}`);
    return key;
  }

  /** Publishes another key (a rotation at the provider). */
  publish(key: SigningKey): void {
    this.published.push(key);
  }

  /** Requests made to the JWKS endpoint so far. */
  get fetches(): number {
    return this.requests.filter((req) => req.path === JWKS_PATH).length;
  }

  /**
   * A provider access token for `claims` (at least `sub`): `iss`, `aud`, `iat` and a 5-minute `exp`
   * are added unless `options` say otherwise (an option set to `undefined` leaves its claim out). `key` defaults to the first published key.
   */
  sign(claims: Record<string, unknown>, options: SignOptions = {}, key: SigningKey = this.published[0]): string {
    const merged: SignOptions = {
      algorithm: key.alg,
      keyid: key.kid,
      issuer: this.issuer,
      audience: this.audience,
      expiresIn: 300,
      ...options,
    };
    // `{ expiresIn: undefined }` means "no exp claim"; jsonwebtoken wants the option absent.
    const defined = Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined));
    return sign(claims, key.privateKey, defined);
  }

  protected describe(req: RecordedRequest): RecordedRequest {
    return req;
  }

  protected handle(req: RecordedRequest, res: ServerResponse): void {
    if (req.method !== 'GET' || req.path !== JWKS_PATH) {
      this.sendJson(res, 404, { error: 'not found' });
      return;
    }
    const keys = this.published.map((key): JsonWebKey => ({
      ...key.publicKey.export({ format: 'jwk' }),
      kid: key.kid,
      alg: key.alg,
      use: 'sig',
    }));
    this.sendJson(res, 200, { keys }, { 'cache-control': 'public, max-age=300' });
  }
}
