import { Logger } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { InspectOptions, InspectTask, VisionFindings } from './vision.types';
import type { WorkerRequest, WorkerResponse } from './vision.worker';

interface Pending {
  resolve: (findings: VisionFindings) => void;
  reject: (error: Error) => void;
}

interface PooledWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** The models are CPU-bound: one worker per two cores, at most two (each holds its own models). */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(2, Math.floor(availableParallelism() / 2)));
}

/**
 * A small pool of worker threads running src/vision/vision.worker.ts, so inference never blocks the
 * event loop. Workers start on first use; a worker that dies fails its pending tasks and is
 * replaced on the next task. Tasks go to the worker with the fewest pending.
 */
export class VisionPool {
  private readonly logger = new Logger(VisionPool.name);
  private readonly workers: Array<PooledWorker | undefined>;
  private nextId = 1;
  private closed = false;

  constructor(size = defaultPoolSize()) {
    this.workers = new Array<PooledWorker | undefined>(size).fill(undefined);
  }

  run(task: InspectTask): Promise<VisionFindings> {
    if (this.closed) return Promise.reject(new Error('vision pool is closed'));
    const transfer = [task.objects, task.text, task.textDetection, task.safety]
      .filter((image) => image !== undefined)
      .map((image) => image.data.buffer as ArrayBuffer);
    return this.send(this.pickSlot(), (id) => ({ id, task }), transfer);
  }

  /** Starts every worker and has it load these models now; resolves when all have loaded them. */
  async warm(models: InspectOptions): Promise<void> {
    if (this.closed) throw new Error('vision pool is closed');
    await Promise.all(this.workers.map((_, slot) => this.send(slot, (id) => ({ id, warm: models }), [])));
  }

  private send(slot: number, request: (id: number) => WorkerRequest, transfer: ArrayBuffer[]): Promise<VisionFindings> {
    const pooled = (this.workers[slot] ??= this.spawn(slot));
    const id = this.nextId++;
    return new Promise<VisionFindings>((resolve, reject) => {
      pooled.pending.set(id, { resolve, reject });
      pooled.worker.postMessage(request(id), transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((pooled) => pooled?.worker.terminate()));
  }

  private pickSlot(): number {
    let best = 0;
    for (let slot = 0; slot < this.workers.length; slot++) {
      const load = this.workers[slot]?.pending.size ?? 0;
      if (load < (this.workers[best]?.pending.size ?? 0)) best = slot;
      if (load === 0) return slot;
    }
    return best;
  }

  private spawn(slot: number): PooledWorker {
    const file = join(__dirname, `vision.worker${extname(__filename)}`);
    // Under ts-node / ts-jest the worker is TypeScript: register the transpiler inside the thread too.
    const execArgv = file.endsWith('.ts') ? ['--require', 'ts-node/register/transpile-only'] : [];
    const worker = new Worker(file, { execArgv });
    const pooled: PooledWorker = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (response: WorkerResponse) => {
      const pending = pooled.pending.get(response.id);
      if (!pending) return;
      pooled.pending.delete(response.id);
      if ('error' in response) pending.reject(new Error(response.error));
      else pending.resolve(response.findings);
    });
    const fail = (error: Error) => {
      if (this.workers[slot] === pooled) this.workers[slot] = undefined;
      for (const pending of pooled.pending.values()) pending.reject(error);
      pooled.pending.clear();
    };
    worker.on('error', (error) => {
      this.logger.error({ msg: 'vision worker failed', error: error.message });
      fail(error);
    });
    worker.on('exit', (code) => {
      if (!this.closed) this.logger.warn({ msg: 'vision worker exited', code });
      fail(new Error(`vision worker exited with code ${code}`));
    });
    return pooled;
  }
}
