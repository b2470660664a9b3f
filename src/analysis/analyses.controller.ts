import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Headers,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiGatewayTimeoutResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/auth.types';
import { Authenticated } from '../auth/decorators/auth.decorator';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParamPipe } from '../common/validation/uuid-param.pipe';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { AnalysesService, AnalysisReply, BatchReply } from './analyses.service';
import { AnalysisReplyInterceptor } from './analysis-reply.interceptor';
import { AnalysisDto, AnalysisPageDto, BatchReplyDto } from './dto/analysis.dto';
import { CreateAnalysisDto, PROMPT_MAX_LENGTH } from './dto/create-analysis.dto';
import { ListAnalysesQueryDto } from './dto/list-analyses.query.dto';
import { BATCH_FILES_FIELD, BatchFile, BatchUploadInterceptor, UploadedBatch } from './upload/batch-upload';
import { ImageUpload, UploadedImage } from './upload/image-upload';
import { ImageUploadInterceptor } from './upload/image-upload.interceptor';

const ID_PARAM = {
  name: 'id',
  schema: { type: 'string', format: 'uuid', example: '0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11' },
  description: 'The analysis id (any case).',
} as const;
const NOT_FOUND = 'No analysis with this id belongs to the caller (another user’s analysis is also 404).';
const LOCATION = {
  Location: {
    description: 'Where the analysis is: `/v1/analyses/{id}`.',
    schema: { type: 'string', pattern: '^/v1/analyses/[0-9a-f-]{36}$', maxLength: 49 },
  },
};
/** `Prefer` values the server acts on (RFC 7240); anything else is ignored, never refused. */
const PREFER_SCHEMA = { type: 'string', maxLength: 256, pattern: '^[ -~]*$' } as const;
const PROMPT_FIELD = {
  type: 'string',
  maxLength: PROMPT_MAX_LENGTH,
  description: 'What to look for (optional). Quoted to the model as data, never as instructions.',
  example: 'Is there a bicycle, and what colour is it?',
};
const METADATA_FIELD = {
  type: 'string',
  // 4 KiB of UTF-8 is at most 4096 characters.
  maxLength: 4096,
  description:
    'Optional JSON object as a string (≤ 4 KiB, ≤ 32 keys ^[a-zA-Z0-9_.-]{1,64}$, values string ≤ 512 / ' +
    'number / boolean). Stored and echoed back; never sent to the model.',
  example: '{"album":"holidays-2030","favourite":true}',
};

@ApiTags('analyses')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input: problem+json, with `errors: [{ field, message }]` for fields.' })
@Controller({ path: 'analyses', version: '1' })
export class AnalysesController {
  constructor(private readonly analyses: AnalysesService) {}

  @Post()
  @RateLimit('analysis')
  @Idempotent()
  @UseInterceptors(ImageUploadInterceptor, AnalysisReplyInterceptor)
  @ApiOperation({
    operationId: 'createAnalysis',
    summary: 'Analyse an image',
    description:
      'Upload one image (JPEG, PNG, WebP, GIF — first frame —, AVIF; HEIC when the server can decode it). The type ' +
      'is read from the bytes, never from the filename or part content type. The image is normalised (EXIF ' +
      'orientation applied, all metadata incl. GPS removed, long edge ≤ AI_MAX_IMAGE_EDGE) before the AI provider ' +
      'sees or Argus stores it. Identical uploads with the same prompt are answered from cache (`cached: true`, ' +
      'no AI quota used); concurrent identical uploads share one provider call.\n\n' +
      'Every analysis is a job. With `Prefer: respond-async` the answer is 202 at once, with `Location`; ' +
      'otherwise the request waits for the job up to `Prefer: wait=N` seconds (≤ 60; default ANALYSIS_SYNC_WAIT_S): ' +
      '201 when it succeeded, its problem (502/503/504, 429 quota) when it failed, 202 when the wait ran out — the ' +
      'job goes on; poll `GET /v1/analyses/{id}` (with `Prefer: wait=N` to long-poll). A cached answer is 201 at once.',
  })
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description: '`respond-async` (202 at once) and/or `wait=N` (seconds to wait, ≤ 60). Malformed values are ignored.',
    schema: { ...PREFER_SCHEMA, example: 'respond-async' },
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'The image; at most MAX_FILE_SIZE_MB (default 10 MB).' },
        prompt: PROMPT_FIELD,
        metadata: METADATA_FIELD,
      },
    },
  })
  @ApiCreatedResponse({ type: AnalysisDto, headers: LOCATION, description: 'Answered (status `succeeded`).' })
  @ApiAcceptedResponse({
    type: AnalysisDto,
    headers: {
      ...LOCATION,
      'Preference-Applied': {
        description: '`respond-async` when it was asked for.',
        schema: { type: 'string', enum: ['respond-async'] },
      },
    },
    description: 'Accepted, not answered yet (status `queued` or `running`): poll the Location.',
  })
  @ApiPayloadTooLargeResponse({ description: 'The file is larger than MAX_FILE_SIZE_MB (decided while streaming).' })
  @ApiUnsupportedMediaTypeResponse({ description: 'The bytes are not a supported image (SVG, PDF, text, TIFF, …).' })
  @ApiUnprocessableEntityResponse({ description: 'More than MAX_IMAGE_PIXELS pixels, or a corrupt image.' })
  @ApiTooManyRequestsResponse({
    description:
      'ANALYSIS_RATE_LIMIT_PER_MINUTE (type …rate-limited) or AI_DAILY_LIMIT_PER_USER (type …quota-exceeded, ' +
      'Retry-After until midnight UTC) exceeded.',
  })
  @ApiBadGatewayResponse({ description: 'The AI provider failed, or answered in the wrong format twice.' })
  @ApiGatewayTimeoutResponse({ description: 'The AI provider did not answer within OPENAI_TIMEOUT_MS (after retries).' })
  @ApiServiceUnavailableResponse({ description: 'The AI provider’s circuit is open; see Retry-After.' })
  create(
    @CurrentUser() user: AuthenticatedUser,
    @UploadedImage() upload: ImageUpload,
    @Body() dto: CreateAnalysisDto,
    @Headers('prefer') prefer?: string,
  ): Promise<AnalysisReply> {
    return this.analyses.create(user, upload, dto, prefer);
  }

  @Post('batch')
  @HttpCode(HttpStatus.ACCEPTED)
  @RateLimit('analysis')
  @Idempotent()
  @UseInterceptors(BatchUploadInterceptor)
  @ApiOperation({
    operationId: 'createAnalysisBatch',
    summary: 'Analyse several images',
    description:
      'Up to BATCH_MAX_FILES (20) images in parts named `files`, with one optional `prompt` and `metadata` for all. ' +
      'Each file is accepted or refused on its own: one item per file, in order, with the analysis id and status ' +
      '(`succeeded` when answered from cache, else `queued`) or the problem that refused it. Each file counts ' +
      'against ANALYSIS_RATE_LIMIT_PER_MINUTE (a batch that does not fit is refused whole, 429).',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: [BATCH_FILES_FIELD],
      properties: {
        [BATCH_FILES_FIELD]: {
          type: 'array',
          minItems: 1,
          // BATCH_MAX_FILES: 20 by default, configurable up to 100 (docs/operations.md).
          maxItems: 100,
          items: { type: 'string', format: 'binary' },
          description: 'The images (at most BATCH_MAX_FILES, default 20), each at most MAX_FILE_SIZE_MB.',
        },
        prompt: PROMPT_FIELD,
        metadata: METADATA_FIELD,
      },
    },
  })
  @ApiAcceptedResponse({ type: BatchReplyDto })
  @ApiPayloadTooLargeResponse({ description: 'The body is larger than BATCH_MAX_FILES files of MAX_FILE_SIZE_MB.' })
  @ApiTooManyRequestsResponse({ description: 'The batch needs more analyses than ANALYSIS_RATE_LIMIT_PER_MINUTE leaves.' })
  batch(
    @CurrentUser() user: AuthenticatedUser,
    @UploadedBatch() files: BatchFile[],
    @Body() dto: CreateAnalysisDto,
  ): Promise<BatchReply> {
    return this.analyses.createBatch(user, files, dto);
  }

  @Get()
  @ApiOperation({
    operationId: 'listAnalyses',
    summary: 'Your analyses, newest first',
    description: 'Cursor pagination: pass `nextCursor` back.',
  })
  @ApiOkResponse({ type: AnalysisPageDto })
  list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListAnalysesQueryDto): Promise<AnalysisPageDto> {
    return this.analyses.list(user, query.limit, query.cursor);
  }

  @Get(':id')
  @UseInterceptors(AnalysisReplyInterceptor)
  @ApiOperation({
    operationId: 'getAnalysis',
    summary: 'One of your analyses',
    description:
      'With `Prefer: wait=N` (N ≤ 60) an unfinished analysis is answered when its job succeeds or fails, or after ' +
      'N seconds, whichever comes first (long-poll).',
  })
  @ApiParam(ID_PARAM)
  @ApiHeader({
    name: 'Prefer',
    required: false,
    description: '`wait=N`: wait up to N seconds (≤ 60) for the job to finish.',
    schema: { ...PREFER_SCHEMA, example: 'wait=30' },
  })
  @ApiOkResponse({ type: AnalysisDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', UuidParamPipe) id: string,
    @Headers('prefer') prefer?: string,
  ): Promise<AnalysisReply> {
    return this.analyses.get(user, id, prefer);
  }

  @Get(':id/image')
  @Header('Cache-Control', 'private, max-age=3600')
  @ApiOperation({
    operationId: 'getAnalysisImage',
    summary: 'The normalised image that was analysed (metadata-free JPEG or WebP)',
    description:
      'The bytes the provider saw: EXIF orientation applied, metadata removed, long edge ≤ AI_MAX_IMAGE_EDGE.',
  })
  @ApiParam(ID_PARAM)
  @ApiProduces('image/jpeg', 'image/webp')
  @ApiOkResponse({ description: 'The stored image.', schema: { type: 'string', format: 'binary' } })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  image(@CurrentUser() user: AuthenticatedUser, @Param('id', UuidParamPipe) id: string): Promise<StreamableFile> {
    return this.analyses.image(user, id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    operationId: 'deleteAnalysis',
    summary: 'Delete one of your analyses',
    description: 'The stored image is removed too once no other analysis (of any user) uses it.',
  })
  @ApiParam(ID_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  remove(@CurrentUser() user: AuthenticatedUser, @Param('id', UuidParamPipe) id: string): Promise<void> {
    return this.analyses.remove(user, id);
  }
}
