import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';

/**
 * An identity at an identity provider (AUTH_JWKS_URL or AUTH_SHARED_*): the pair (`iss`, `sub`)
 * of its tokens, linked to one account. An account may have several; an identity has one account.
 */
@Entity({ name: 'user_identities' })
@Unique('UQ_user_identities_issuer_subject', ['issuer', 'subject'])
export class UserIdentity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Index()
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 512 })
  issuer: string;

  @Column({ type: 'varchar', length: 255 })
  subject: string;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
