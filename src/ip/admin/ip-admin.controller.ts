import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthenticatedUser } from '../../auth/auth.types';
import { AdminOnly } from '../../auth/decorators/admin.decorator';
import { CurrentUser } from '../../auth/decorators/current-user.decorator';
import { UuidParamPipe } from '../../common/validation/uuid-param.pipe';
import { IpReportsService } from '../ip-reports.service';
import { AllowlistDto, AllowlistEntryDto, CreateAllowlistEntryDto, IpFeedsDto, ProvidersDto } from './dto/ip-admin.dto';
import { IpAdminService } from './ip-admin.service';

const ID_PARAM = {
  name: 'id',
  schema: { type: 'string', format: 'uuid', example: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b' },
} as const;

/** The IP room's admin routes (docs/api.md, "Admin"); anyone without the admin role gets a 404. */
@ApiTags('admin')
@AdminOnly()
@Controller({ path: 'admin', version: '1' })
export class IpAdminController {
  constructor(
    private readonly admin: IpAdminService,
    private readonly reports: IpReportsService,
  ) {}

  @Get('ip-allowlist')
  @ApiOperation({
    operationId: 'listIpAllowlist',
    summary: 'The allowlist: admin entries and IP_ALLOWLIST',
    description:
      'An allowlisted address is `clean`, score 0, whatever lists and reports say, and no provider is asked.',
  })
  @ApiOkResponse({ type: AllowlistDto })
  listAllowlist(): Promise<AllowlistDto> {
    return this.admin.listAllowlist();
  }

  @Post('ip-allowlist')
  @ApiOperation({
    operationId: 'addIpAllowlistEntry',
    summary: 'Allowlist a network, an address or an AS',
    description: 'Applies at once on this replica and within 10 s on the others; cached answers need no purge.',
  })
  @ApiCreatedResponse({ type: AllowlistEntryDto })
  @ApiBadRequestResponse({ description: 'Not a CIDR / address / AS<number>, or expiresAt not in the future.' })
  addToAllowlist(
    @CurrentUser() admin: AuthenticatedUser,
    @Body() dto: CreateAllowlistEntryDto,
  ): Promise<AllowlistEntryDto> {
    return this.admin.addToAllowlist(dto, admin.id);
  }

  @Delete('ip-allowlist/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    operationId: 'deleteIpAllowlistEntry',
    summary: 'Remove an allowlist entry',
    description: 'Entries from IP_ALLOWLIST are configuration: they cannot be removed here.',
  })
  @ApiParam({ ...ID_PARAM, description: 'The allowlist entry id.' })
  @ApiNoContentResponse({ description: 'Removed.' })
  removeFromAllowlist(@Param('id', UuidParamPipe) id: string): Promise<void> {
    return this.admin.removeFromAllowlist(id);
  }

  @Get('ip-feeds')
  @ApiOperation({
    operationId: 'listIpFeeds',
    summary: 'Each IP feed: entries, last fetch, age, last error',
    description: 'URLs are shown with their credentials masked.',
  })
  @ApiOkResponse({ type: IpFeedsDto })
  listFeeds(): IpFeedsDto {
    return this.admin.listFeeds();
  }

  @Delete('ip-reports/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    operationId: 'deleteIpReport',
    summary: "Delete a user's report",
    description: "It stops counting at once: the address's cached answer is dropped on every replica.",
  })
  @ApiParam({ ...ID_PARAM, description: 'The report id.' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  removeReport(@Param('id', UuidParamPipe) id: string): Promise<void> {
    return this.reports.remove(id);
  }

  @Get('providers')
  @ApiOperation({
    operationId: 'listProviderKeys',
    summary: 'Provider keys: masked id, state, expiry, quota left',
    description: 'Keys are masked to their last four characters.',
  })
  @ApiOkResponse({ type: ProvidersDto })
  listProviders(): ProvidersDto {
    return this.admin.listProviders();
  }
}
