import { Module } from '@nestjs/common';
import { MetricsService } from './metrics.service';

/**
 * The Prometheus registry every room records through. It depends on nothing but config and
 * common, so every room may import it; `GET /metrics`, which needs the auth and rate-limit rooms,
 * is served by the health room beside the probes.
 */
@Module({
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}
