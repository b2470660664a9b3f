import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { IpVerdict } from '../ip-scoring';
import type { ProviderAnswer } from '../ip-reputation.types';

/**
 * One fresh lookup of a public address: the address's reputation at `checkedAt`. Append-only;
 * the history endpoint and stale-if-error read them newest first (index ip, checked_at desc).
 */
@Entity({ name: 'ip_snapshots' })
@Index('IDX_ip_snapshots_ip_checked_at', ['ip', 'checkedAt'])
export class IpSnapshot {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** Canonical text form (IPv4-mapped IPv6 folded to IPv4). */
  @Column({ type: 'varchar', length: 45 })
  ip: string;

  @Column({ type: 'integer', nullable: true })
  score: number | null;

  @Column({ type: 'varchar', length: 16 })
  verdict: IpVerdict;

  /** Every source's answer with its scoring fields, so a stored answer can stand in for a failing provider. */
  @Column({ type: 'simple-json' })
  sources: ProviderAnswer[];

  @Column({ name: 'checked_at', type: Date })
  checkedAt: Date;
}
