import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { StoredImageFormat } from '../../storage/image-store';
import type { AnalysisMetadata, AnalysisResult } from '../analysis.types';

/**
 * One analysis request of one user (its history). Rows of identical uploads share the stored
 * image through `sha256`; the image bytes live in the ImageStore, never here. JSON columns are
 * `simple-json` (text), portable between PostgreSQL and SQLite.
 */
@Entity({ name: 'analyses' })
@Index('IDX_analyses_user_id_created_at', ['userId', 'createdAt', 'id'])
export class Analysis {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** Lower-case hex sha256 of the uploaded bytes; also the stored image's key. */
  @Index('IDX_analyses_sha256')
  @Column({ type: 'varchar', length: 64 })
  sha256: string;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  prompt: string | null;

  @Column({ type: 'simple-json' })
  metadata: AnalysisMetadata;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ type: 'varchar', length: 128 })
  model: string;

  @Column({ type: 'simple-json' })
  result: AnalysisResult;

  @Column({ name: 'image_format', type: 'varchar', length: 8 })
  imageFormat: StoredImageFormat;

  @Column({ name: 'image_width', type: 'integer' })
  imageWidth: number;

  @Column({ name: 'image_height', type: 'integer' })
  imageHeight: number;

  @Column({ name: 'image_bytes', type: 'integer' })
  imageBytes: number;

  /** What this request cost: zero when it was answered from cache (`cached`) or by the local provider. */
  @Column({ name: 'input_tokens', type: 'integer' })
  inputTokens: number;

  @Column({ name: 'output_tokens', type: 'integer' })
  outputTokens: number;

  @Column({ name: 'cost_usd', type: 'double precision' })
  costUsd: number;

  @Column({ type: 'boolean' })
  cached: boolean;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;
}
