import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIpAddress } from '../ip-address';
import { ENRICHMENT_FILE_NAMES, enrichmentFiles } from './enrichment-files';
import { IpEnrichmentData, parseAsnList } from './ip-enrichment-data';

const v4 = (text: string): number => parseIpAddress(text).bytes.reduce((sum, byte) => sum * 256 + byte, 0);
const v6 = (text: string): string =>
  parseIpAddress(text)
    .bytes.reduce((sum, byte) => (sum << 8n) | BigInt(byte), 0n)
    .toString();

describe('IpEnrichmentData', () => {
  const dir = mkdtempSync(join(tmpdir(), 'argus-enrichment-'));
  let sut: IpEnrichmentData;

  beforeAll(async () => {
    writeFileSync(
      join(dir, ENRICHMENT_FILE_NAMES.asnIpv4),
      [
        `${v4('8.8.8.0')},${v4('8.8.8.255')},15169,Google LLC`,
        `${v4('9.0.0.0')},${v4('9.0.2.255')},64500,"Example, ""Quoted"" Inc."`,
        `${v4('9.1.0.0')},${v4('9.1.0.255')},64501,`,
        'garbage line',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, ENRICHMENT_FILE_NAMES.asnIpv6),
      `${v6('2001:4860::')},${v6('2001:4860:ffff:ffff:ffff:ffff:ffff:ffff')},15169,Google LLC\r\n`,
    );
    writeFileSync(
      join(dir, ENRICHMENT_FILE_NAMES.countryIpv4),
      `${v4('8.0.0.0')},${v4('8.255.255.255')},US\n${v4('9.0.0.0')},${v4('9.0.0.255')},xx1\n`,
    );
    writeFileSync(
      join(dir, ENRICHMENT_FILE_NAMES.countryIpv6),
      `${v6('2001:4860::')},${v6('2001:4860:ffff:ffff:ffff:ffff:ffff:ffff')},US\n`,
    );
    writeFileSync(join(dir, ENRICHMENT_FILE_NAMES.hostingAsns), '# hosting\nAS64500 # example\n15169\n');
    sut = await IpEnrichmentData.load(enrichmentFiles(dir), [1]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('answers asn, organisation, routed block, country and hosting for IPv4', () => {
    expect(sut.lookup(parseIpAddress('8.8.8.8').bytes)).toEqual({
      asn: 15169,
      asOrg: 'Google LLC',
      network: '8.8.8.0/24',
      country: 'US',
      usageType: 'hosting',
    });
  });

  it('unquotes organisations and gives the largest block inside an unaligned range', () => {
    expect(sut.lookup(parseIpAddress('9.0.2.1').bytes)).toMatchObject({
      asn: 64500,
      asOrg: 'Example, "Quoted" Inc.',
      network: '9.0.2.0/24',
      country: null,
    });
  });

  it('leaves fields without data null, never invented', () => {
    expect(sut.lookup(parseIpAddress('9.1.0.1').bytes)).toEqual({
      asn: 64501,
      asOrg: null,
      network: '9.1.0.0/24',
      country: null,
      usageType: null,
    });
    expect(sut.lookup(parseIpAddress('203.0.113.9').bytes)).toEqual({
      asn: null,
      asOrg: null,
      network: null,
      country: null,
      usageType: null,
    });
  });

  it('answers IPv6 (CRLF line ends accepted)', () => {
    expect(sut.lookup(parseIpAddress('2001:4860:4860::8888').bytes)).toEqual({
      asn: 15169,
      asOrg: 'Google LLC',
      network: '2001:4860::/32',
      country: 'US',
      usageType: 'hosting',
    });
    expect(sut.asnOf(parseIpAddress('2001:4860::1').bytes)).toBe(15169);
  });

  it('counts what it could not read and replaces the hosting list from the directory', () => {
    expect(sut.stats).toMatchObject({ invalidLines: 1, hostingAsns: 2, asnRanges: { ipv4: 3, ipv6: 1 } });
    expect(sut.isHosting(1)).toBe(false);
  });
});

describe('the shipped datasets (no network, no download: npm ci is enough)', () => {
  it('resolve inside node_modules and answer for well-known addresses', async () => {
    const files = enrichmentFiles(undefined);
    for (const path of Object.values(files).filter((value): value is string => value !== undefined)) {
      expect(path).toContain(join('node_modules', '@ip-location-db'));
    }
    const sut = await IpEnrichmentData.load(files, [15169]);
    expect(sut.lookup(parseIpAddress('8.8.8.8').bytes)).toMatchObject({
      asn: 15169,
      country: 'US',
      usageType: 'hosting',
    });
    expect(sut.lookup(parseIpAddress('2001:4860:4860::8888').bytes)).toMatchObject({ asn: 15169 });
    expect(sut.stats.asnRanges.ipv4).toBeGreaterThan(100_000);
    expect(sut.stats.skippedRows).toBe(0);
  }, 60_000);
});

describe('parseAsnList', () => {
  it('reads one AS number per line, AS prefix optional, comments ignored', () => {
    expect(parseAsnList('AS13335\n# AS1\n  14061  # DigitalOcean\nas16509\nnot a number\n')).toEqual([
      13335, 14061, 16509,
    ]);
  });
});
