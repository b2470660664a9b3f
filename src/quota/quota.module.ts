import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AiUsage } from './entities/ai-usage.entity';
import { QuotaService } from './quota.service';

/** Daily AI quota per user; the analysis module checks it, /v1/auth/me reports it. */
@Module({
  imports: [TypeOrmModule.forFeature([AiUsage])],
  providers: [QuotaService],
  exports: [QuotaService],
})
export class QuotaModule {}
