import { Module } from '@nestjs/common';
import { OutboundHttpService } from './outbound-http.service';

/** Import where upstream calls are made; one service instance, so one circuit per provider. */
@Module({
  providers: [OutboundHttpService],
  exports: [OutboundHttpService],
})
export class OutboundHttpModule {}
