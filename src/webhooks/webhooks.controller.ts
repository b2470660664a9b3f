import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/auth.types';
import { Authenticated } from '../auth/decorators/auth.decorator';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParamPipe } from '../common/validation/uuid-param.pipe';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { CreateWebhookDto } from './dto/create-webhook.dto';
import { ListDeliveriesQueryDto } from './dto/list-deliveries.query.dto';
import { CreatedWebhookDto, WebhookDeliveryPageDto, WebhookListDto } from './dto/webhook.dto';
import { WebhooksService } from './webhooks.service';

const ID_PARAM = {
  name: 'id',
  schema: { type: 'string', format: 'uuid', example: '5d1c1f5e-9a0b-4c53-8a39-0f6d2f3e7b11' },
  description: 'The webhook endpoint id.',
} as const;
const NOT_FOUND = 'No webhook endpoint with this id belongs to the caller (another user’s is also 404).';

class TestDeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'The queued delivery; also its `webhook-id`.' })
  deliveryId: string;
}

@ApiTags('webhooks')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input: problem+json, with `errors: [{ field, message }]` for fields.' })
@Controller({ path: 'webhooks', version: '1' })
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @Idempotent()
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Register a webhook endpoint',
    description:
      'Argus POSTs the subscribed events to the URL, signed per Standard Webhooks (`webhook-id`, ' +
      '`webhook-timestamp`, `webhook-signature`). The answer carries the signing secret, once. At most 20 ' +
      'endpoints per user.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  create(@CurrentUser() user: AuthenticatedUser, @Body() dto: CreateWebhookDto): Promise<CreatedWebhookDto> {
    return this.webhooks.create(user, dto);
  }

  @Get()
  @ApiOperation({
    operationId: 'listWebhooks',
    summary: 'Your webhook endpoints (secrets are never listed)',
    description: 'Disabled endpoints are listed too, with `disabledAt`.',
  })
  @ApiOkResponse({ type: WebhookListDto })
  list(@CurrentUser() user: AuthenticatedUser): Promise<WebhookListDto> {
    return this.webhooks.list(user);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Delete a webhook endpoint and its queued deliveries',
    description: 'Nothing more is delivered to it, retries included.',
  })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  remove(@CurrentUser() user: AuthenticatedUser, @Param('id', UuidParamPipe) id: string): Promise<void> {
    return this.webhooks.remove(user, id);
  }

  @Post(':id/test')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    operationId: 'testWebhook',
    summary: 'Send a `webhook.test` event to the endpoint',
    description: 'Queued like any delivery (same signing, retries and checks); follow it in the deliveries list.',
  })
  @ApiParam(ID_PARAM)
  @ApiAcceptedResponse({ type: TestDeliveryDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  @ApiConflictResponse({ description: 'The endpoint is disabled (every delivery failed for 24 h).' })
  test(@CurrentUser() user: AuthenticatedUser, @Param('id', UuidParamPipe) id: string): Promise<TestDeliveryDto> {
    return this.webhooks.sendTest(user, id);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'Deliveries to one of your endpoints, newest first',
    description: 'Cursor pagination: pass `nextCursor` back.',
  })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: WebhookDeliveryPageDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  deliveries(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', UuidParamPipe) id: string,
    @Query() query: ListDeliveriesQueryDto,
  ): Promise<WebhookDeliveryPageDto> {
    return this.webhooks.listDeliveries(user, id, query.limit, query.cursor);
  }
}
