import { ApiProperty } from '@nestjs/swagger';
import type { StoredImageFormat } from '../../storage/image-store';
import type {
  AnalysedImage,
  AnalysisMetadata,
  AnalysisPage,
  AnalysisResult,
  AnalysisUsage,
  AnalysisView,
} from '../analysis.types';

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

export class AnalysisDto implements AnalysisView {
  @ApiProperty({ format: 'uuid', example: '0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11' })
  id: string;

  @ApiProperty({
    description: 'sha256 (hex) of the uploaded bytes.',
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  })
  sha256: string;

  @ApiProperty({ description: 'True when no upstream call was made for this request (answered from cache).' })
  cached: boolean;

  @ApiProperty({ enum: ['openai', 'local'], example: 'openai' })
  provider: string;

  @ApiProperty({ example: 'gpt-4o-mini' })
  model: string;

  @ApiProperty({ type: String, nullable: true, example: 'Is there a bicycle?' })
  prompt: string | null;

  @ApiProperty({ type: AnalysisResultDto })
  result: AnalysisResultDto;

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
