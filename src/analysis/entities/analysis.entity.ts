import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { StoredImageFormat } from '../../storage/image-store';
import type {
  AnalysisMetadata,
  AnalysisModeration,
  AnalysisProblem,
  AnalysisResult,
  AnalysisStatus,
} from '../analysis.types';

/**
 * One analysis request of one user (its history), and the job that answers it (docs/api.md, Image analysis): the
 * row is written `queued` when the upload is accepted and is the job's source of truth; a worker
 * takes it `running` under a lease and ends it `succeeded` (with `result`) or `failed` (with
 * `error`). Rows of identical uploads share the stored image through `sha256`; the image bytes live
 * in the ImageStore, never here. JSON columns are `simple-json` (text), portable between
 * PostgreSQL and SQLite.
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

  @Column({ type: 'varchar', length: 16 })
  status: AnalysisStatus;

  /** Times a worker has claimed the job (a crashed or released run counts). */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** While `running`: until when the worker holding the job is trusted to be alive. */
  @Column({ name: 'lease_until', type: Date, nullable: true })
  leaseUntil: Date | null;

  @Column({ name: 'worker_id', type: 'varchar', length: 128, nullable: true })
  workerId: string | null;

  /** The request that created the job (its X-Request-ID): logged and forwarded by the worker. */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  /** The result-cache key of (image, prompt, provider, model); the table is the durable cache. */
  @Column({ name: 'cache_key', type: 'varchar', length: 100, nullable: true })
  cacheKey: string | null;

  @Column({ type: 'varchar', length: 32 })
  provider: string;

  @Column({ type: 'varchar', length: 128 })
  model: string;

  /** Set when `succeeded`. */
  @Column({ type: 'simple-json', nullable: true })
  result: AnalysisResult | null;

  /** Set when `failed`: the problem the job ended with. */
  @Column({ type: 'simple-json', nullable: true })
  error: AnalysisProblem | null;

  @Column({ name: 'image_format', type: 'varchar', length: 8 })
  imageFormat: StoredImageFormat;

  @Column({ name: 'image_width', type: 'integer' })
  imageWidth: number;

  @Column({ name: 'image_height', type: 'integer' })
  imageHeight: number;

  @Column({ name: 'image_bytes', type: 'integer' })
  imageBytes: number;

  /** What this analysis cost: zero when it was answered from cache (`cached`) or by the local provider. */
  @Column({ name: 'input_tokens', type: 'integer' })
  inputTokens: number;

  @Column({ name: 'output_tokens', type: 'integer' })
  outputTokens: number;

  @Column({ name: 'cost_usd', type: 'double precision' })
  costUsd: number;

  /** True when the answer came from the cache: no upstream call was made for this analysis. */
  @Column({ type: 'boolean' })
  cached: boolean;

  /**
   * How a cached answer was found: `near` for a near-identical image (perceptual hash); `exact`
   * (or null on rows older than this column) for the same bytes. Null when not cached.
   */
  @Column({ name: 'cache', type: 'varchar', length: 8, nullable: true })
  cacheKind: 'exact' | 'near' | null;

  /**
   * 64-bit perceptual hash of the normalised image (16 hex digits) and its four 16-bit bands, each
   * indexed: the near-duplicate look-up (src/analysis/near-duplicate). Null on rows older than it.
   */
  @Column({ type: 'varchar', length: 16, nullable: true })
  phash: string | null;

  @Column({ name: 'phash_b0', type: 'integer', nullable: true })
  phashB0: number | null;

  @Column({ name: 'phash_b1', type: 'integer', nullable: true })
  phashB1: number | null;

  @Column({ name: 'phash_b2', type: 'integer', nullable: true })
  phashB2: number | null;

  @Column({ name: 'phash_b3', type: 'integer', nullable: true })
  phashB3: number | null;

  /** The normalised image's 4 × 4 sRGB thumbnail (96 hex digits): confirms a perceptual-hash match. */
  @Column({ name: 'colour_layout', type: 'varchar', length: 96, nullable: true })
  colourLayout: string | null;

  /** The moderation decision, set when the job succeeded (copied from the source on a cache hit). */
  @Column({ type: 'simple-json', nullable: true })
  moderation: AnalysisModeration | null;

  @Column({ name: 'created_at', type: Date })
  createdAt: Date;

  /** When the job became `succeeded` or `failed`. */
  @Column({ name: 'completed_at', type: Date, nullable: true })
  completedAt: Date | null;
}
