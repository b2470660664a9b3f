import { Controller, Get, Header, Headers, UnauthorizedException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ApiExcludeController } from '@nestjs/swagger';
import { SkipRateLimit } from '../rate-limit/rate-limit.decorator';
import { timingSafeEqual } from 'node:crypto';
import { Public } from '../common/decorators/public.decorator';
import { AppConfig } from '../config/config.types';
import { MetricsService } from './metrics.service';

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
    this.token = token ? Buffer.from(`Bearer ${token}`) : undefined;
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

  private matchesToken(authorization?: string): boolean {
    const given = Buffer.from(authorization ?? '');
    return this.token !== undefined && given.length === this.token.length && timingSafeEqual(given, this.token);
  }
}
