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
import { METADATA_MAX_BYTES, METADATA_MAX_KEYS, parseAnalysisMetadata } from '../analysis-metadata';

export const PROMPT_MAX_LENGTH = 1000;
const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const DELETE = 0x7f;

/** C0 controls other than tab, line feed and carriage return, and DEL. */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code < 0x20 && code !== TAB && code !== LINE_FEED && code !== CARRIAGE_RETURN) || code === DELETE) return true;
  }
  return false;
}

@ValidatorConstraint({ name: 'noControlCharacters' })
class NoControlCharactersConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && !hasControlCharacter(value);
  }

  defaultMessage({ property }: ValidationArguments): string {
    return `${property} must not contain control characters`;
  }
}

@ValidatorConstraint({ name: 'analysisMetadata' })
class AnalysisMetadataConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && parseAnalysisMetadata(value).ok;
  }

  defaultMessage({ value }: ValidationArguments): string {
    const parsed = typeof value === 'string' ? parseAnalysisMetadata(value) : undefined;
    const problems = parsed && !parsed.ok ? parsed.problems : ['must be a JSON object as a string'];
    return `metadata ${problems.join('; ')}`;
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
  @Validate(NoControlCharactersConstraint)
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
