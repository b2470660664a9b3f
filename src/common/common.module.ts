import { Global, Module } from '@nestjs/common';
import { ShutdownState } from './lifecycle/shutdown-state';

/** Cross-cutting injectables every feature may use. */
@Global()
@Module({
  providers: [ShutdownState],
  exports: [ShutdownState],
})
export class CommonModule {}
