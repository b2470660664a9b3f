import { Module } from '@nestjs/common';
import { VisionPool } from './vision-pool';
import { VisionWarmup } from './vision-warmup';
import { VisionService } from './vision.service';

/**
 * The local models (objects, OCR, safety) behind one service, inference in worker threads.
 * Models load once per worker: at start in a process that runs jobs (VisionWarmup), otherwise the
 * first time an analysis needs them.
 */
@Module({
  providers: [{ provide: VisionPool, useFactory: () => new VisionPool() }, VisionService, VisionWarmup],
  exports: [VisionService],
})
export class VisionModule {}
