import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A user's latest lookup of an address (kept to a precision of an hour; see ip-verdict-notifier.ts). */
@Entity({ name: 'ip_lookups' })
@Index('IDX_ip_lookups_ip_looked_up_at', ['ip', 'lookedUpAt'])
export class IpLookup {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @PrimaryColumn({ type: 'varchar', length: 45 })
  ip: string;

  @Column({ name: 'looked_up_at', type: Date })
  lookedUpAt: Date;
}
