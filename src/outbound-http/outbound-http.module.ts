import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { OutboundHttpService } from './outbound-http.service';

/** Import where upstream calls are made; one service instance, so one circuit per provider. */
@Module({
  imports: [MetricsModule],
  providers: [OutboundHttpService],
  exports: [OutboundHttpService],
})
export class OutboundHttpModule {}
