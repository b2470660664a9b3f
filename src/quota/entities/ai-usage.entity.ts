import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Upstream AI analyses counted per user and UTC day: the durable source of the daily quota. */
@Entity({ name: 'ai_usage' })
export class AiUsage {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** UTC calendar day, `YYYY-MM-DD`. */
  @PrimaryColumn({ type: 'date' })
  day: string;

  @Column({ type: 'integer', default: 0 })
  count: number;
}
