import { Module } from '@nestjs/common';
import { ShutdownState } from './lifecycle/shutdown-state';

/** Cross-cutting injectables (the shutdown state); import where they are used. */
@Module({
  providers: [ShutdownState],
  exports: [ShutdownState],
})
export class CommonModule {}
