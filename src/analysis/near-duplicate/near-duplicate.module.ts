import { Module } from '@nestjs/common';
import { NearDuplicateIndex } from './near-duplicate.index';

/** Perceptual-hash lookups on the analyses table (docs/api.md, "Near-duplicates"). */
@Module({
  providers: [NearDuplicateIndex],
  exports: [NearDuplicateIndex],
})
export class NearDuplicateModule {}
