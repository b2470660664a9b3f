import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An admin's allowlist entry (`/v1/admin/ip-allowlist`): a CIDR, an address or `AS<number>`. */
@Entity({ name: 'ip_allowlist' })
export class IpAllowlistEntry {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** Canonical: `192.0.2.0/24`, `2001:db8::/32`, a single address as /32 or /128, or `AS15169`. */
  @Column({ type: 'varchar', length: 64 })
  value: string;

  @Column({ type: 'varchar', length: 256, nullable: true })
  note: string | null;

  /** Past this time the entry no longer applies (it stays listed until deleted). */
  @Column({ name: 'expires_at', type: Date, nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdBy: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
