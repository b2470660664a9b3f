import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One opaque refresh token, stored only as its SHA-256 hash. Tokens issued by rotating each other
 * share a `familyId` (one per login); reusing a spent token revokes the whole family.
 */
@Entity({ name: 'refresh_tokens' })
export class RefreshToken {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Index()
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Index()
  @Column({ name: 'family_id', type: 'uuid' })
  familyId: string;

  /** Hex SHA-256 of the token; the token itself is never stored. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64, unique: true })
  tokenHash: string;

  @Column({ name: 'expires_at', type: Date })
  expiresAt: Date;

  /** When the token was exchanged for a new pair; a spent token is never accepted again. */
  @Column({ name: 'used_at', type: Date, nullable: true })
  usedAt: Date | null;

  /** When its family was revoked (logout or reuse detection). */
  @Column({ name: 'revoked_at', type: Date, nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
