import { ApiProperty } from '@nestjs/swagger';
import { DELIVERY_STATUSES, DeliveryStatus } from '../entities/webhook-delivery.entity';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_TEST_EVENT, WebhookDeliveryType, WebhookEventType } from '../webhook-events';

export class WebhookDto {
  @ApiProperty({ format: 'uuid', example: '5d1c1f5e-9a0b-4c53-8a39-0f6d2f3e7b11' })
  id: string;

  @ApiProperty({ example: 'https://hooks.example.com/argus' })
  url: string;

  @ApiProperty({ enum: WEBHOOK_EVENT_TYPES, isArray: true, example: ['analysis.succeeded'] })
  events: WebhookEventType[];

  @ApiProperty({ type: String, nullable: true, example: 'Production callback' })
  description: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Set when every delivery failed for 24 h; a disabled endpoint gets no more deliveries.',
    example: null,
  })
  disabledAt: string | null;

  @ApiProperty({ format: 'date-time', example: '2030-06-01T12:00:00.000Z' })
  createdAt: string;
}

export class CreatedWebhookDto extends WebhookDto {
  @ApiProperty({
    description:
      'The signing secret (`whsec_` + base64 of 32 random bytes). Shown only in this response: keep it to verify ' +
      'the `webhook-signature` of every delivery.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3lNKgKz8iyA=',
  })
  secret: string;
}

export class WebhookListDto {
  @ApiProperty({ type: [WebhookDto], description: 'Your endpoints, oldest first. Secrets are never listed.' })
  items: WebhookDto[];
}

export class WebhookDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt of this delivery.' })
  id: string;

  @ApiProperty({ enum: [...WEBHOOK_EVENT_TYPES, WEBHOOK_TEST_EVENT], example: 'analysis.succeeded' })
  event: WebhookDeliveryType;

  @ApiProperty({ enum: DELIVERY_STATUSES, example: 'pending' })
  status: DeliveryStatus;

  @ApiProperty({ description: 'Attempts made so far.', example: 2 })
  attempts: number;

  @ApiProperty({ type: Number, nullable: true, description: 'HTTP status of the last answer.', example: 500 })
  lastStatusCode: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed.', example: 'HTTP 500' })
  lastError: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Null once succeeded or failed.' })
  nextAttemptAt: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class WebhookDeliveryPageDto {
  @ApiProperty({ type: [WebhookDeliveryDto], description: 'Newest first.' })
  items: WebhookDeliveryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  nextCursor: string | null;
}
