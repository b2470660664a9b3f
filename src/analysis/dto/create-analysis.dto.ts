import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsOptional,
  IsString,
  MaxLength,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { SafeText } from '../../common/validation/safe-text.decorator';
import { textProblem, textProblemMessage } from '../../common/validation/text';
import { METADATA_MAX_BYTES, METADATA_MAX_KEYS, parseAnalysisMetadata } from '../analysis-metadata';

export const PROMPT_MAX_LENGTH = 1000;

/** Problems of the metadata field: its shape (parseAnalysisMetadata), then its string values as free text. */
function metadataProblems(value: unknown): string[] {
  if (typeof value !== 'string') return ['must be a JSON object as a string'];
  const parsed = parseAnalysisMetadata(value);
  if (!parsed.ok) return parsed.problems;
  return Object.entries(parsed.value).flatMap(([key, item]) => {
    const problem = typeof item === 'string' ? textProblem(item, true) : undefined;
    return problem ? [textProblemMessage(JSON.stringify(key), problem, true)] : [];
  });
}

@ValidatorConstraint({ name: 'analysisMetadata' })
class AnalysisMetadataConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return metadataProblems(value).length === 0;
  }

  defaultMessage({ value }: ValidationArguments): string {
    return `metadata ${metadataProblems(value).join('; ')}`;
  }
}

/** The text fields of `POST /v1/analyses` (the `file` part is handled by ImageUploadInterceptor). */
export class CreateAnalysisDto {
  @ApiPropertyOptional({
    maxLength: PROMPT_MAX_LENGTH,
    description:
      'What to look for. Part of the cache key. Passed to the model as quoted data, never as instructions. ' +
      'Leading and trailing spaces are ignored; an empty prompt is no prompt.',
    example: 'Is there a bicycle, and what colour is it?',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => trimToUndefined(value))
  @IsString()
  @MaxLength(PROMPT_MAX_LENGTH)
  @SafeText({ multiline: true })
  prompt?: string;

  @ApiPropertyOptional({
    description:
      `A JSON object as a string: at most ${METADATA_MAX_BYTES} bytes and ${METADATA_MAX_KEYS} keys, keys matching ` +
      '^[a-zA-Z0-9_.-]{1,64}$, values a string (≤ 512 characters), a number or a boolean. Stored with the ' +
      'analysis and echoed back; never sent to the model.',
    example: '{"album":"holidays-2030","deviceId":"ios-42","favourite":true}',
  })
  @IsOptional()
  @IsString()
  @Validate(AnalysisMetadataConstraint)
  metadata?: string;
}

function trimToUndefined(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
