import { Injectable } from '@nestjs/common';

/** Set when the process has been asked to stop; readiness reports 503 from then on. */
@Injectable()
export class ShutdownState {
  private stopping = false;

  get isShuttingDown(): boolean {
    return this.stopping;
  }

  begin(): void {
    this.stopping = true;
  }
}
