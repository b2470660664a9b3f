import { Controller, Get, Header, Headers, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipRateLimit } from '../rate-limit/rate-limit.decorator';
import { timingSafeEqual } from 'node:crypto';
import { bearerToken } from '../auth/bearer-token';
import { Public } from '../common/decorators/public.decorator';
import { AppConfig } from '../config/config.types';
import { MetricsService } from '../metrics/metrics.service';

@ApiExcludeController()
@Public()
@SkipRateLimit()
@Controller('metrics')
export class MetricsController {
  private readonly token?: Buffer;

  constructor(
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const token = config.get('app.metricsToken', { infer: true });
    this.token = token ? Buffer.from(token) : undefined;
  }

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async scrape(@Headers('authorization') authorization?: string): Promise<string> {
    if (this.token && !this.matchesToken(authorization)) {
      throw new UnauthorizedException('A valid metrics token is required.');
    }
    return this.metrics.render();
  }

  /** The same strict bearer parser as the API's access tokens (scheme in any case, one token). */
  private matchesToken(authorization?: string): boolean {
    const given = Buffer.from(bearerToken(authorization) ?? '');
    return this.token !== undefined && given.length === this.token.length && timingSafeEqual(given, this.token);
  }
}
