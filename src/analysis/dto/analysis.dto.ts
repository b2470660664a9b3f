import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { StoredImageFormat } from '../../storage/image-store';
import type {
  AnalysedImage,
  AnalysisCacheKind,
  AnalysisMetadata,
  AnalysisModeration,
  AnalysisPage,
  AnalysisProblem,
  AnalysisResult,
  AnalysisStatus,
  AnalysisUsage,
  AnalysisView,
} from '../analysis.types';
import type { BatchItem, BatchReply } from '../analyses.service';

const STATUSES: AnalysisStatus[] = ['queued', 'running', 'succeeded', 'failed'];

export class AnalysisResultDto implements AnalysisResult {
  @ApiProperty({ example: 'A red bicycle leaning against a brick wall on a sunny street.' })
  summary: string;

  @ApiProperty({ type: [String], example: ['bicycle', 'red', 'street', 'outdoor'] })
  tags: string[];

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'Provider-specific structured details. `openai`: objects, text, colours, setting, people, promptAnswer, ' +
      'contentWarnings. `local`: dimensions, colours, brightness, contrast, sharpness, transparency.',
    example: {
      objects: [{ label: 'bicycle', count: 1 }],
      text: null,
      colours: ['red', 'brown'],
      setting: 'street',
      people: 0,
      promptAnswer: 'Yes, a red bicycle.',
      contentWarnings: [],
    },
  })
  details: Record<string, unknown>;
}

export class AnalysedImageDto implements AnalysedImage {
  @ApiProperty({ enum: ['jpeg', 'webp'], description: 'Format of the normalised, stored image.', example: 'jpeg' })
  format: StoredImageFormat;

  @ApiProperty({ example: 1568 })
  width: number;

  @ApiProperty({ example: 1045 })
  height: number;

  @ApiProperty({ description: 'Size of the normalised image in bytes.', example: 214733 })
  bytes: number;
}

export class AnalysisUsageDto implements AnalysisUsage {
  @ApiProperty({ example: 1105 })
  inputTokens: number;

  @ApiProperty({ example: 96 })
  outputTokens: number;

  @ApiProperty({ description: 'Estimated US dollars; 0 when cached or local.', example: 0.00022335 })
  costUsd: number;
}

/** An RFC 9457 problem, as a failed analysis or a refused batch item carries it. */
export class AnalysisProblemDto implements AnalysisProblem {
  @ApiProperty({ example: 'urn:argus:problem:upstream-timeout' })
  type: string;

  @ApiProperty({ example: 'Gateway Timeout' })
  title: string;

  @ApiProperty({ example: 504 })
  status: number;

  @ApiProperty({ example: 'The upstream provider "openai" did not answer in time.' })
  detail: string;
}

export class AnalysisModerationDto implements AnalysisModeration {
  @ApiProperty({ enum: ['accept', 'review', 'reject'] })
  decision: 'accept' | 'review' | 'reject';

  @ApiProperty({ type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } })
  categories: Record<string, number>;

  @ApiProperty({ example: 'local' })
  provider: string;
}

export class AnalysisDto implements AnalysisView {
  @ApiProperty({ format: 'uuid', example: '0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11' })
  id: string;

  @ApiProperty({
    enum: STATUSES,
    description: 'The analysis job: `queued` → `running` → `succeeded` (with `result`) or `failed` (with `error`).',
    example: 'succeeded',
  })
  status: AnalysisStatus;

  @ApiProperty({
    description: 'sha256 (hex) of the uploaded bytes.',
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  })
  sha256: string;

  @ApiProperty({ description: 'True when no upstream call was made for this analysis (answered from cache).' })
  cached: boolean;

  @ApiProperty({
    enum: ['exact', 'near'],
    nullable: true,
    description:
      'How the answer came from the cache: `exact` (the same bytes) or `near` (a resized or re-encoded copy of an ' +
      'image already analysed, by perceptual hash); null when the model was asked.',
  })
  cache: AnalysisCacheKind;

  @ApiProperty({ enum: ['openai', 'local'], example: 'openai' })
  provider: string;

  @ApiProperty({ example: 'gpt-4o-mini' })
  model: string;

  @ApiProperty({ type: String, nullable: true, example: 'Is there a bicycle?' })
  prompt: string | null;

  @ApiProperty({ type: AnalysisResultDto, nullable: true, description: 'Null until the analysis succeeded.' })
  result: AnalysisResultDto | null;

  @ApiProperty({
    type: AnalysisModerationDto,
    nullable: true,
    description:
      'The moderation verdict, made for every answered analysis (copied on a cache hit); null while queued, ' +
      'running or failed, and on analyses answered before moderation existed.',
  })
  moderation: AnalysisModerationDto | null;

  @ApiProperty({
    type: AnalysisProblemDto,
    nullable: true,
    description: 'Why the analysis failed (the problem a waiting upload was answered with); null otherwise.',
  })
  error: AnalysisProblemDto | null;

  @ApiProperty({ type: AnalysedImageDto })
  image: AnalysedImageDto;

  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { album: 'holidays-2030', favourite: true },
  })
  metadata: AnalysisMetadata;

  @ApiProperty({
    type: AnalysisUsageDto,
    description: 'What this request cost. A cached answer reports zeros: it made no upstream call.',
  })
  usage: AnalysisUsageDto;

  @ApiProperty({ format: 'date-time', example: '2030-06-01T12:00:00.000Z' })
  createdAt: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When the analysis succeeded or failed; null while it is queued or running.',
    example: '2030-06-01T12:00:02.500Z',
  })
  completedAt: string | null;
}

export class BatchItemDto {
  @ApiProperty({ description: 'Position of the file among the `files` parts, from 0.', example: 0 })
  index: number;

  @ApiPropertyOptional({ format: 'uuid', description: 'The analysis made for the file (when it was accepted).' })
  id?: string;

  @ApiPropertyOptional({ enum: STATUSES, description: 'The analysis job’s status when the batch was answered.' })
  status?: AnalysisStatus;

  @ApiPropertyOptional({ type: AnalysisProblemDto, description: 'Why the file was refused (instead of `id`).' })
  error?: AnalysisProblemDto;
}

export class BatchReplyDto implements BatchReply {
  @ApiProperty({ type: [BatchItemDto], description: 'One item per file, in the order of the parts.' })
  items: BatchItem[];
}

export class AnalysisPageDto implements AnalysisPage {
  @ApiProperty({ type: [AnalysisDto], description: 'Newest first.' })
  items: AnalysisDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
    example: 'MTg5NjM1NjgwMDAwMC4wYjdlNGYwZS02YTUzLTRjMWUtOWE1Ny0zZjFmOGYwZjJkMTE',
  })
  nextCursor: string | null;
}
