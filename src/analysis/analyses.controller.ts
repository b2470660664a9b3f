import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  StreamableFile,
  UseInterceptors,
} from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiGatewayTimeoutResponse,
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
import { AnalysesService } from './analyses.service';
import { AnalysisDto, AnalysisPageDto } from './dto/analysis.dto';
import { CreateAnalysisDto, PROMPT_MAX_LENGTH } from './dto/create-analysis.dto';
import { ListAnalysesQueryDto } from './dto/list-analyses.query.dto';
import { ImageUpload, UploadedImage } from './upload/image-upload';
import { ImageUploadInterceptor } from './upload/image-upload.interceptor';

const ID_PARAM = { name: 'id', format: 'uuid', description: 'The analysis id.' };
const NOT_FOUND = 'No analysis with this id belongs to the caller (another user’s analysis is also 404).';

@ApiTags('analyses')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input: problem+json, with `errors: [{ field, message }]` for fields.' })
@Controller({ path: 'analyses', version: '1' })
export class AnalysesController {
  constructor(private readonly analyses: AnalysesService) {}

  @Post()
  @RateLimit('analysis')
  @Idempotent()
  @UseInterceptors(ImageUploadInterceptor)
  @ApiOperation({
    summary: 'Analyse an image',
    description:
      'Upload one image (JPEG, PNG, WebP, GIF — first frame —, AVIF; HEIC when the server can decode it). The type ' +
      'is read from the bytes, never from the filename or part content type. The image is normalised (EXIF ' +
      'orientation applied, all metadata incl. GPS removed, long edge ≤ AI_MAX_IMAGE_EDGE) before the AI provider ' +
      'sees or Argus stores it. Identical uploads with the same prompt are answered from cache (`cached: true`, ' +
      'no AI quota used); concurrent identical uploads share one provider call.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'The image; at most MAX_FILE_SIZE_MB (default 10 MB).' },
        prompt: {
          type: 'string',
          maxLength: PROMPT_MAX_LENGTH,
          description: 'What to look for (optional). Quoted to the model as data, never as instructions.',
          example: 'Is there a bicycle, and what colour is it?',
        },
        metadata: {
          type: 'string',
          description:
            'Optional JSON object as a string (≤ 4 KiB, ≤ 32 keys ^[a-zA-Z0-9_.-]{1,64}$, values string ≤ 512 / ' +
            'number / boolean). Stored and echoed back; never sent to the model.',
          example: '{"album":"holidays-2030","favourite":true}',
        },
      },
    },
  })
  @ApiCreatedResponse({ type: AnalysisDto })
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
  ): Promise<AnalysisDto> {
    return this.analyses.create(user, upload, dto);
  }

  @Get()
  @ApiOperation({ summary: 'Your analyses, newest first', description: 'Cursor pagination: pass `nextCursor` back.' })
  @ApiOkResponse({ type: AnalysisPageDto })
  list(@CurrentUser() user: AuthenticatedUser, @Query() query: ListAnalysesQueryDto): Promise<AnalysisPageDto> {
    return this.analyses.list(user, query.limit, query.cursor);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of your analyses' })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: AnalysisDto })
  @ApiNotFoundResponse({ description: NOT_FOUND })
  get(@CurrentUser() user: AuthenticatedUser, @Param('id', UuidParamPipe) id: string): Promise<AnalysisDto> {
    return this.analyses.get(user, id);
  }

  @Get(':id/image')
  @Header('Cache-Control', 'private, max-age=3600')
  @ApiOperation({ summary: 'The normalised image that was analysed (metadata-free JPEG or WebP)' })
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
