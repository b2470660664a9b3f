import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { EnrichmentFiles, IpEnrichmentData } from './ip-enrichment-data';
import type { LoadFailure, LoadRequest, LoadResponse } from './ip-enrichment.worker';

/**
 * Loads the enrichment datasets in a worker thread (ip-enrichment.worker.ts) and resolves with the
 * data built from the typed arrays it transfers back: the ~2 s parse never holds this thread's
 * event loop, and lookups stay synchronous binary searches here. Rejects as `IpEnrichmentData.load`
 * would (the worker's error, with its name, message and `code`), or when the thread dies first.
 */
export function loadInWorker(files: EnrichmentFiles, builtInHosting: Iterable<number>): Promise<IpEnrichmentData> {
  const file = join(__dirname, `ip-enrichment.worker${extname(__filename)}`);
  // Under ts-node / ts-jest the worker is TypeScript: register the transpiler inside the thread too
  // (as src/vision/vision-pool.ts does); from dist it is the compiled .js next to this file.
  const execArgv = file.endsWith('.ts') ? ['--require', 'ts-node/register/transpile-only'] : [];
  const request: LoadRequest = { files, builtInHosting: [...builtInHosting] };
  return new Promise<IpEnrichmentData>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    const worker = new Worker(file, { execArgv, workerData: request });
    worker.once('message', (response: LoadResponse) =>
      settle(() => {
        if ('error' in response) reject(toError(response.error));
        else resolve(IpEnrichmentData.fromTables(response.tables));
      }),
    );
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) =>
      settle(() => reject(new Error(`ip enrichment worker exited with code ${code} before posting the data`))),
    );
  });
}

function toError(failure: LoadFailure): Error {
  const error: NodeJS.ErrnoException = new Error(failure.message);
  error.name = failure.name;
  if (failure.stack !== undefined) error.stack = failure.stack;
  if (failure.code !== undefined) error.code = failure.code;
  return error;
}
