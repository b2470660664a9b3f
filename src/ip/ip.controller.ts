import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiExcludeEndpoint,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import type { AuthenticatedUser } from '../auth/auth.types';
import { Authenticated } from '../auth/decorators/auth.decorator';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { RateLimit } from '../rate-limit/rate-limit.decorator';
import { IpBulkLookupDto, IpBulkLookupResultDto } from './dto/ip-bulk-lookup.dto';
import { IpHistoryDto, IpHistoryQueryDto } from './dto/ip-history.dto';
import { CreateIpReportDto, IpReportDto } from './dto/ip-report.dto';
import { IpReputationDto } from './dto/ip-reputation.dto';
import { IpRangeDto } from './dto/ip-range.dto';
import { MAX_IP_TEXT_LENGTH } from './ip-address';
import { IpRangesService } from './ip-ranges.service';
import { IpReportsService } from './ip-reports.service';
import { IpReputationService } from './ip-reputation.service';

const ADDRESS_PARAM = {
  name: 'address',
  description:
    'IPv4 (dotted decimal, no leading zeros, e.g. `118.25.6.39`) or IPv6 (`2001:4860:4860::8888`; IPv4-mapped ' +
    '`::ffff:118.25.6.39` is read as IPv4). CIDR ranges, zone ids and ambiguous forms are refused with 400.',
  schema: { type: 'string', minLength: 1, maxLength: MAX_IP_TEXT_LENGTH, example: '118.25.6.39' },
};

@ApiTags('ip')
@Authenticated()
@RateLimit('ip')
@ApiTooManyRequestsResponse({ description: 'IP_RATE_LIMIT_PER_MINUTE exceeded for this user (Retry-After).' })
@Controller({ path: 'ip', version: '1' })
export class IpController {
  constructor(
    private readonly reputation: IpReputationService,
    private readonly reports: IpReportsService,
    private readonly ranges: IpRangesService,
  ) {}

  // Declared before the `:address…` routes, which would otherwise take `ranges` for an address.
  @Get('ranges/:cidr')
  @ApiOperation({
    operationId: 'getIpRange',
    summary: 'What Argus knows inside a range',
    description:
      'For an IPv4 /24–/32 or IPv6 /48–/128 (the slash URL-encoded as %2F): the network’s AS and country, the feed ' +
      'entries that hold or lie inside it, and every address in it that was reported or looked up. Asks no provider.',
  })
  @ApiParam({
    name: 'cidr',
    description: 'An address, `/`, a prefix length; the slash URL-encoded: `45.12.7.0%2F24`.',
    // An address (at most MAX_IP_TEXT_LENGTH characters), a slash and up to three digits.
    schema: { type: 'string', minLength: 3, maxLength: MAX_IP_TEXT_LENGTH + 4, example: '45.12.7.0/24' },
  })
  @ApiOkResponse({ type: IpRangeDto })
  @ApiBadRequestResponse({ description: 'Not a CIDR, wider than /24 (IPv4) or /48 (IPv6), or not public space.' })
  checkRange(@Param('cidr') cidr: string): Promise<IpRangeDto> {
    return this.ranges.check(cidr);
  }

  @Post('lookup')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'lookupIps',
    summary: 'Reputation of up to 100 addresses',
    description:
      'Each item is what GET /v1/ip/{address} would answer, or that item’s error; one bad item never fails the ' +
      'others. Every distinct address counts against IP_RATE_LIMIT_PER_MINUTE: a batch that does not fit is refused ' +
      'whole with 429.',
  })
  @ApiOkResponse({ type: IpBulkLookupResultDto })
  @ApiBadRequestResponse({ description: 'Invalid body (not 1–100 strings, unknown fields).' })
  lookupMany(@CurrentUser() user: AuthenticatedUser, @Body() dto: IpBulkLookupDto): Promise<IpBulkLookupResultDto> {
    return this.reputation.lookupMany(user, dto.ips);
  }

  @Get(':address/history')
  @ApiOperation({
    operationId: 'getIpHistory',
    summary: "The address's reputation over time, newest first",
    description: 'One snapshot per fresh lookup of the address (cached answers add none).',
  })
  @ApiParam(ADDRESS_PARAM)
  @ApiOkResponse({ type: IpHistoryDto })
  @ApiBadRequestResponse({ description: 'Not a valid IP address, or `limit` outside 1–100.' })
  history(@Param('address') address: string, @Query() query: IpHistoryQueryDto): Promise<IpHistoryDto> {
    return this.reputation.history(address, query.limit);
  }

  @Post(':address/reports')
  @Idempotent()
  @ApiOperation({
    operationId: 'reportIp',
    summary: 'Report an address for abuse',
    description: "Feeds the `local` source's score at once (the address's cached answer is dropped).",
  })
  @ApiParam(ADDRESS_PARAM)
  @ApiCreatedResponse({ type: IpReportDto })
  @ApiBadRequestResponse({ description: 'Invalid body, not a valid IP address, or not a public address.' })
  report(
    @CurrentUser() user: AuthenticatedUser,
    @Param('address') address: string,
    @Body() dto: CreateIpReportDto,
  ): Promise<IpReportDto> {
    return this.reports.report(user, address, dto);
  }

  @Get(':address')
  @ApiOperation({
    operationId: 'getIpReputation',
    summary: 'Reputation of one address',
    description:
      'Public addresses are scored from every configured source (AbuseIPDB, users’ reports, blocklists) and cached ' +
      'for IP_CACHE_TTL; other scopes answer `not-applicable` without asking anyone. A failing source never fails ' +
      'the lookup: its last known answer stands in (`stale`), or it is listed with its `error`.',
  })
  @ApiParam(ADDRESS_PARAM)
  @ApiOkResponse({ type: IpReputationDto })
  @ApiBadRequestResponse({ description: 'Not a valid IP address (malformed, zero-padded, CIDR, too long).' })
  lookup(@CurrentUser() user: AuthenticatedUser, @Param('address') address: string): Promise<IpReputationDto> {
    return this.reputation.lookup(address, user);
  }

  /** `/v1/ip/1.2.3.4/24` (a CIDR range with its slash unencoded) gets the same 400 as the encoded form, not a 404. */
  @Get(':address/:prefixLength')
  @ApiExcludeEndpoint()
  lookupRange(
    @Param('address') address: string,
    @Param('prefixLength') prefixLength: string,
  ): Promise<IpReputationDto> {
    return this.reputation.lookup(`${address}/${prefixLength}`);
  }
}
