import { parentPort, workerData } from 'node:worker_threads';
import { EnrichmentFiles, EnrichmentTables, IpEnrichmentData } from './ip-enrichment-data';

/** What the loader starts this thread with (`workerData`). */
export interface LoadRequest {
  files: EnrichmentFiles;
  builtInHosting: number[];
}

/** A load's failure, as plain data (an Error's own fields: `code` says ENOENT, EACCES…). */
export interface LoadFailure {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** The one message this thread posts, then it ends. */
export type LoadResponse = { tables: EnrichmentTables } | { error: LoadFailure };

/**
 * One load of the IP enrichment datasets in its own thread (started by ip-enrichment-loader.ts):
 * reads and parses the CSV files here, posts the typed arrays back by transfer (no copy), and ends.
 * The parse costs about 2 s of CPU; on the main thread it held the event loop.
 */
async function load(request: LoadRequest): Promise<void> {
  try {
    const data = await IpEnrichmentData.load(request.files, request.builtInHosting);
    const { tables, transfer } = data.toTables();
    parentPort?.postMessage({ tables } satisfies LoadResponse, transfer);
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    const code = (failure as NodeJS.ErrnoException).code;
    const { name, message, stack } = failure;
    parentPort?.postMessage({
      error: { name, message, stack, ...(code === undefined ? {} : { code }) },
    } satisfies LoadResponse);
  }
}

if (parentPort) void load(workerData as LoadRequest);
