import { SecretBox } from '../common/crypto/secret-box';

/**
 * Kept response bodies, sealed at rest: a replayed `POST /v1/webhooks` answer holds the endpoint's
 * signing secret, so a dump of the database or Redis alone must read none of them. Keyed from
 * JWT_SECRET (every replica shares it; JWT_SECRET_PREVIOUS still opens bodies kept before a
 * rotation) with its own HKDF info; the user and key are bound in as associated data.
 */
export class ResponseSeal extends SecretBox {
  constructor(secrets: readonly string[]) {
    super(secrets, { info: 'argus idempotency responses v1', format: 'i1' });
  }
}
