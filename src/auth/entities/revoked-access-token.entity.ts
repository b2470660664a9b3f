import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * An access token signed out before its `exp` (logout): kept until it expires, so the revocation
 * survives restarts and reaches replicas that start later (AccessRevocations loads these).
 */
@Entity({ name: 'revoked_access_tokens' })
export class RevokedAccessToken {
  /** The token's `jti` (Argus tokens) or the SHA-256 of the token (identity-provider tokens). */
  @PrimaryColumn({ name: 'token_id', type: 'varchar', length: 64 })
  tokenId: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Index()
  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  @Column({ name: 'revoked_at', type: Date })
  revokedAt: Date;
}
