import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CommonModule } from '../common/common.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RedisModule } from '../redis/redis.module';
import { ApiKeyExpiryMonitor } from './api-key-expiry.monitor';
import { HealthController } from './health.controller';
import { HealthDetailsService } from './health-details.service';
import { MetricsController } from './metrics.controller';

/** Operations endpoints: Terminus checks, GET /metrics, and the provider key-expiry monitor. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), CommonModule, MetricsModule, RedisModule],
  controllers: [HealthController, MetricsController],
  providers: [HealthDetailsService, ApiKeyExpiryMonitor],
})
export class HealthModule {}
