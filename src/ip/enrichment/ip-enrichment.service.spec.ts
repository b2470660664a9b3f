import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../../config/config.types';
import { ENRICHMENT_FILE_NAMES, enrichmentFiles } from './enrichment-files';
import { IpEnrichmentData } from './ip-enrichment-data';
import { loadInWorker } from './ip-enrichment-loader';
import { IpEnrichmentService } from './ip-enrichment.service';

const serviceFor = (enrichmentDir: string | undefined): IpEnrichmentService =>
  new IpEnrichmentService({
    get: (key: string) => (key === 'ipIntel.enrichmentDir' ? enrichmentDir : undefined),
  } as unknown as ConfigService<AppConfig, true>);

describe('IpEnrichmentService loading the shipped datasets', () => {
  // How long the event loop is held is measured by `npm run bench:ip-enrichment` (docs/performance.md),
  // not asserted here as wall time: this checks where the parse runs.
  it('parses in a worker thread and builds its data from the transferred tables, then answers', async () => {
    const parseHere = jest.spyOn(IpEnrichmentData, 'load');
    const fromTables = jest.spyOn(IpEnrichmentData, 'fromTables');
    try {
      const data = await serviceFor(undefined).ready();
      expect(data?.lookup([8, 8, 8, 8])).toMatchObject({ asn: 15169, country: 'US' });
      // On this thread the parse held the event loop 0.3–5 s at a time; here it only receives tables.
      expect(parseHere).not.toHaveBeenCalled();
      expect(fromTables).toHaveBeenCalledTimes(1);
    } finally {
      parseHere.mockRestore();
      fromTables.mockRestore();
    }
  }, 60_000);
});

describe('loadInWorker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-enrichment-worker-'));
  const v4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

  beforeAll(() => {
    writeFileSync(
      join(dir, ENRICHMENT_FILE_NAMES.asnIpv4),
      `${v4(45, 64, 0, 0)},${v4(45, 64, 255, 255)},64496,"Example ""Hosting"""\nnot a row\n`,
    );
    writeFileSync(join(dir, ENRICHMENT_FILE_NAMES.asnIpv6), '');
    writeFileSync(join(dir, ENRICHMENT_FILE_NAMES.countryIpv4), `${v4(45, 64, 0, 0)},${v4(45, 64, 0, 255)},SE\n`);
    writeFileSync(join(dir, ENRICHMENT_FILE_NAMES.countryIpv6), '');
    writeFileSync(join(dir, ENRICHMENT_FILE_NAMES.hostingAsns), 'AS64496\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the same data as a load on this thread', async () => {
    const files = enrichmentFiles(dir);
    const [fromWorker, here] = await Promise.all([loadInWorker(files, [1]), IpEnrichmentData.load(files, [1])]);
    expect(fromWorker.stats).toEqual(here.stats);
    for (const address of [
      [45, 64, 0, 9],
      [45, 64, 9, 9],
      [45, 65, 0, 1],
    ]) {
      expect(fromWorker.lookup(address)).toEqual(here.lookup(address));
    }
    expect(fromWorker.lookup([45, 64, 0, 9])).toEqual({
      asn: 64496,
      asOrg: 'Example "Hosting"',
      network: '45.64.0.0/16',
      country: 'SE',
      usageType: 'hosting',
    });
  });

  it('rejects with the error of a file it cannot read (its code too)', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'argus-enrichment-bad-'));
    try {
      mkdirSync(join(bad, ENRICHMENT_FILE_NAMES.asnIpv4)); // a directory where the file should be
      await expect(loadInWorker(enrichmentFiles(bad), [])).rejects.toMatchObject({
        code: 'EISDIR',
        message: expect.stringContaining('EISDIR'),
      });
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('the service logs that error and answers without enrichment', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'argus-enrichment-bad-'));
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      mkdirSync(join(bad, ENRICHMENT_FILE_NAMES.countryIpv6));
      const service = serviceFor(bad);
      await expect(service.ready()).resolves.toBeUndefined();
      await expect(service.lookup([8, 8, 8, 8])).resolves.toEqual({
        asn: null,
        asOrg: null,
        network: null,
        country: null,
        usageType: null,
      });
      expect(errors).toHaveBeenCalledWith(
        expect.objectContaining({
          msg: 'ip enrichment could not be loaded; asn, country and network stay null',
          err: expect.objectContaining({ code: 'EISDIR' }),
        }),
      );
    } finally {
      errors.mockRestore();
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
