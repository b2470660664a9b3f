import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A user's abuse report of an address; the `local` source scores them (see ip-scoring.ts). */
@Entity({ name: 'ip_reports' })
@Index('IDX_ip_reports_ip_created_at', ['ip', 'createdAt'])
export class IpReport {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** Canonical text form (IPv4-mapped IPv6 folded to IPv4). */
  @Column({ type: 'varchar', length: 45 })
  ip: string;

  @Index('IDX_ip_reports_user_id')
  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** AbuseIPDB category ids (1–23), ascending, each once. */
  @Column({ type: 'simple-json' })
  categories: number[];

  @Column({ type: 'varchar', length: 1024, nullable: true })
  comment: string | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  /**
   * False for a repeat of the same reporter's report of the address within 24 h: it is kept (and
   * its categories shown) but not counted in `totalReports` (docs/api.md, "Users' reports").
   */
  @Column({ type: 'boolean', default: true })
  counted: boolean;
}
