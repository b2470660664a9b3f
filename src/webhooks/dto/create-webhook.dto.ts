import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { SafeText } from '../../common/validation/safe-text.decorator';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../webhook-events';

export const URL_MAX_LENGTH = 2048;
export const DESCRIPTION_MAX_LENGTH = 256;

/** Why `value` is not a URL a webhook may be registered with (syntax only), or undefined. */
export function webhookUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an absolute http(s) URL';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials (user:password@)';
  return undefined;
}

@ValidatorConstraint({ name: 'webhookUrl' })
class WebhookUrlConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && webhookUrlProblem(value) === undefined;
  }

  defaultMessage({ property, value }: ValidationArguments): string {
    return `${property} ${typeof value === 'string' ? webhookUrlProblem(value) : 'must be a string'}`;
  }
}

/** `POST /v1/webhooks` */
export class CreateWebhookDto {
  @ApiProperty({
    maxLength: URL_MAX_LENGTH,
    format: 'uri',
    description:
      'Absolute http(s) URL (https in production), without credentials. Its host must not be or resolve to a ' +
      'loopback, private, link-local, CGNAT, multicast, reserved or cloud-metadata address; checked here and ' +
      'again before every delivery. Redirects are not followed.',
    example: 'https://hooks.example.com/argus',
  })
  @IsString()
  @MaxLength(URL_MAX_LENGTH)
  @SafeText()
  @Validate(WebhookUrlConstraint)
  url: string;

  @ApiProperty({
    enum: WEBHOOK_EVENT_TYPES,
    isArray: true,
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    uniqueItems: true,
    description: 'The events to deliver; at least one, each once.',
    example: ['analysis.succeeded', 'analysis.failed'],
  })
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, { each: true, message: `each event must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` })
  events: WebhookEventType[];

  @ApiPropertyOptional({
    maxLength: DESCRIPTION_MAX_LENGTH,
    description: 'Free text for your own records; no control characters.',
    example: 'Production callback',
  })
  @IsOptional()
  @IsString()
  @MaxLength(DESCRIPTION_MAX_LENGTH)
  @SafeText()
  description?: string;
}
