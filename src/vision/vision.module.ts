import { Module } from '@nestjs/common';
import { VisionPool } from './vision-pool';
import { VisionService } from './vision.service';

/**
 * The local models (objects, OCR, safety) behind one service, inference in worker threads.
 * Models load lazily, once per worker, the first time an analysis needs them.
 */
@Module({
  providers: [{ provide: VisionPool, useFactory: () => new VisionPool() }, VisionService],
  exports: [VisionService],
})
export class VisionModule {}
