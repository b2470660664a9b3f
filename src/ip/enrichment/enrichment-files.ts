import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { EnrichmentFiles } from './ip-enrichment-data';

/** File names, the same in the npm packages and in IP_ENRICHMENT_DIR (docs/operations.md). */
export const ENRICHMENT_FILE_NAMES = {
  asnIpv4: 'asn-ipv4-num.csv',
  asnIpv6: 'asn-ipv6-num.csv',
  countryIpv4: 'geo-whois-asn-country-ipv4-num.csv',
  countryIpv6: 'geo-whois-asn-country-ipv6-num.csv',
  hostingAsns: 'hosting-asns.txt',
} as const;

/**
 * Where each dataset is read from: a file of the same name in `overrideDir` (IP_ENRICHMENT_DIR)
 * when there is one, else the copy shipped in `@ip-location-db/asn` (DB-IP CC BY 4.0, RouteViews,
 * NRO) and `@ip-location-db/geo-whois-asn-country` (CC0 / NRO). Nothing is downloaded.
 */
export function enrichmentFiles(overrideDir: string | undefined): EnrichmentFiles {
  const asnDir = packageDir('@ip-location-db/asn');
  const countryDir = packageDir('@ip-location-db/geo-whois-asn-country');
  const pick = (name: string, shippedDir: string): string => {
    const override = overrideDir === undefined ? undefined : join(overrideDir, name);
    return override !== undefined && existsSync(override) ? override : join(shippedDir, name);
  };
  const hosting = overrideDir === undefined ? undefined : join(overrideDir, ENRICHMENT_FILE_NAMES.hostingAsns);
  return {
    asnIpv4: pick(ENRICHMENT_FILE_NAMES.asnIpv4, asnDir),
    asnIpv6: pick(ENRICHMENT_FILE_NAMES.asnIpv6, asnDir),
    countryIpv4: pick(ENRICHMENT_FILE_NAMES.countryIpv4, countryDir),
    countryIpv6: pick(ENRICHMENT_FILE_NAMES.countryIpv6, countryDir),
    hostingAsns: hosting !== undefined && existsSync(hosting) ? hosting : undefined,
  };
}

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}
