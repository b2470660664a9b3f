import { readFile } from 'node:fs/promises';
import * as ipaddr from 'ipaddr.js';
import { readRangeCsv } from './range-csv';
import {
  largestBlockWithin,
  largestBlockWithin4,
  ownBuffer,
  RangeTable,
  RangeTableArrays,
  RangeTableBuilder,
  wordsToBytes,
} from './range-table';

/** What the offline datasets say about an address (docs/api.md, "Offline enrichment"). */
export interface IpEnrichment {
  asn: number | null;
  asOrg: string | null;
  /** The largest CIDR block around the address inside the range its AS routes, e.g. `8.8.8.0/24`. */
  network: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string | null;
  /** `hosting` when the AS is on the hosting list (hosting-asns.ts), else null (unknown, not "residential"). */
  usageType: 'hosting' | null;
}

export const NO_ENRICHMENT: IpEnrichment = { asn: null, asOrg: null, network: null, country: null, usageType: null };

/** The four CSV files and the hosting list one load reads. */
export interface EnrichmentFiles {
  asnIpv4: string;
  asnIpv6: string;
  countryIpv4: string;
  countryIpv6: string;
  /** A `hosting-asns.txt` replacing the built-in list; undefined keeps the built-in list. */
  hostingAsns?: string;
}

export interface EnrichmentStats {
  asnRanges: { ipv4: number; ipv6: number };
  countryRanges: { ipv4: number; ipv6: number };
  organisations: number;
  hostingAsns: number;
  invalidLines: number;
  skippedRows: number;
  /** More specific rows that overrode part of the range before them. */
  nestedRows: number;
  bytes: number;
}

/**
 * A loaded IpEnrichmentData as the loading worker posts it (ip-enrichment.worker.ts): the typed
 * arrays travel by transfer (no copy), the rest by structured clone.
 */
export interface EnrichmentTables {
  asnV4: RangeTableArrays;
  asnV6: RangeTableArrays;
  countryV4: RangeTableArrays;
  countryV6: RangeTableArrays;
  asNumbers: Uint32Array;
  /** AsOrganisations' text and offsets (one string and one array: 90 000 strings took 50–100 ms to receive). */
  asOrgText: string;
  asOrgEnds: Uint32Array;
  hosting: number[];
  stats: EnrichmentStats;
}

const AS_NUMBER = /^\s*(\d{1,10})\s*,(.*)$/s;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * ASN, AS organisation, routed block, country and hosting flag for any address, from range tables
 * held in typed arrays. Immutable once loaded; a reload builds a new instance.
 */
export class IpEnrichmentData {
  constructor(
    private readonly asnV4: RangeTable,
    private readonly asnV6: RangeTable,
    private readonly countryV4: RangeTable,
    private readonly countryV6: RangeTable,
    /** (AS number, organisation) pairs the ASN tables' values point into. */
    private readonly asNumbers: Uint32Array,
    private readonly asOrgs: AsOrganisations,
    private readonly hosting: ReadonlySet<number>,
    readonly stats: EnrichmentStats,
  ) {
    this.networkTexts = new Array<string | undefined>(asnV4.size).fill(undefined);
  }

  /**
   * `network4`'s texts of IPv4 ASN ranges that are one CIDR block, filled as they are asked for.
   * Pre-sized and filled so the array stays packed (a sparse one falls back to a slow dictionary).
   */
  private readonly networkTexts: Array<string | undefined>;

  /** `bytes`: 4 or 16 network-order bytes (ParsedIp.bytes). */
  lookup(bytes: readonly number[]): IpEnrichment {
    if (bytes.length === 4)
      return this.lookup4(((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0);
    const words = toWords(bytes);
    const v4 = words.length === 1;
    const asnTable = v4 ? this.asnV4 : this.asnV6;
    const countryTable = v4 ? this.countryV4 : this.countryV6;
    const asnRow = asnTable.find(words);
    const countryRow = countryTable.find(words);
    const country = countryRow === -1 ? null : countryCode(countryTable.value(countryRow));
    if (asnRow === -1) return { ...NO_ENRICHMENT, country };
    const pair = asnTable.value(asnRow);
    const asn = this.asNumbers[pair];
    const { start, end } = asnTable.bounds(asnRow);
    const prefix = largestBlockWithin(words, start, end);
    return {
      asn,
      asOrg: this.asOrgs.get(pair),
      network: formatNetwork(words, prefix),
      country,
      usageType: this.hosting.has(asn) ? 'hosting' : null,
    };
  }

  /** The IPv4 path of `lookup`, on the address as one unsigned 32-bit number (no arrays). */
  private lookup4(address: number): IpEnrichment {
    const asnRow = this.asnV4.find4(address);
    const countryRow = this.countryV4.find4(address);
    const country = countryRow === -1 ? null : countryCode(this.countryV4.value(countryRow));
    if (asnRow === -1) return { asn: null, asOrg: null, network: null, country, usageType: null };
    const pair = this.asnV4.value(asnRow);
    const asn = this.asNumbers[pair];
    return {
      asn,
      asOrg: this.asOrgs.get(pair),
      network: this.network4(address, asnRow),
      country,
      usageType: this.hosting.has(asn) ? 'hosting' : null,
    };
  }

  /**
   * The block around the address inside its ASN range. Most ranges are one CIDR block: their text
   * is made once and kept (a string per lookup was half the cost of an IPv4 lookup).
   */
  private network4(address: number, row: number): string {
    const known = this.networkTexts[row];
    if (known !== undefined) return known;
    const start = this.asnV4.start4(row);
    const end = this.asnV4.end4(row);
    const prefix = largestBlockWithin4(address, start, end);
    const network = prefix === 0 ? 0 : (address & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
    const text = `${network >>> 24}.${(network >>> 16) & 0xff}.${(network >>> 8) & 0xff}.${network & 0xff}/${prefix}`;
    const wholeRange = network === start && network + 2 ** (32 - prefix) - 1 === end;
    if (wholeRange) this.networkTexts[row] = text;
    return text;
  }

  /** The AS number routing the address, or null: the cheap part of `lookup` (allowlist checks). */
  asnOf(bytes: readonly number[]): number | null {
    const words = toWords(bytes);
    const table = words.length === 1 ? this.asnV4 : this.asnV6;
    const row = table.find(words);
    return row === -1 ? null : this.asNumbers[table.value(row)];
  }

  isHosting(asn: number): boolean {
    return this.hosting.has(asn);
  }

  /**
   * This data as tables to post to another thread, and the buffers to transfer with them. The
   * typed arrays are this instance's own: once transferred, this instance must not be used again.
   */
  toTables(): { tables: EnrichmentTables; transfer: ArrayBuffer[] } {
    const tables = [this.asnV4, this.asnV6, this.countryV4, this.countryV6].map((table) => table.arrays());
    return {
      tables: {
        asnV4: tables[0].arrays,
        asnV6: tables[1].arrays,
        countryV4: tables[2].arrays,
        countryV6: tables[3].arrays,
        asNumbers: this.asNumbers,
        asOrgText: this.asOrgs.text,
        asOrgEnds: this.asOrgs.ends,
        hosting: [...this.hosting],
        stats: this.stats,
      },
      transfer: [...tables.flatMap((table) => table.buffers), ownBuffer(this.asNumbers), ownBuffer(this.asOrgs.ends)],
    };
  }

  /** The data back from `toTables()` (on the thread that received them). */
  static fromTables(tables: EnrichmentTables): IpEnrichmentData {
    return new IpEnrichmentData(
      RangeTable.fromArrays(tables.asnV4),
      RangeTable.fromArrays(tables.asnV6),
      RangeTable.fromArrays(tables.countryV4),
      RangeTable.fromArrays(tables.countryV6),
      tables.asNumbers,
      new AsOrganisations(tables.asOrgText, tables.asOrgEnds),
      new Set(tables.hosting),
      tables.stats,
    );
  }

  /**
   * Loads and indexes the files on this thread; throws when a file cannot be read. About 2 s of
   * CPU for the shipped files: the service runs it in a worker thread (ip-enrichment-loader.ts).
   */
  static async load(files: EnrichmentFiles, builtInHosting: Iterable<number>): Promise<IpEnrichmentData> {
    const pairs = new Map<string, number>();
    const asNumbers: number[] = [];
    const asOrgs: (string | null)[] = [];
    const byText = new Map<string, number>();
    const asnValue = (rest: string): number => {
      const known = byText.get(rest);
      if (known !== undefined) return known;
      const value = parseAsnRest(rest);
      byText.set(rest, value);
      return value;
    };
    const parseAsnRest = (rest: string): number => {
      const match = AS_NUMBER.exec(rest);
      if (!match) return pairOf(0, null);
      const org = match[2].trim();
      return pairOf(Number(match[1]), unquoteOrg(org) || null);
    };
    const pairOf = (asn: number, org: string | null): number => {
      const key = `${asn}\u0000${org ?? ''}`;
      let index = pairs.get(key);
      if (index === undefined) {
        index = asNumbers.length;
        asNumbers.push(asn);
        asOrgs.push(org);
        pairs.set(key, index);
      }
      return index;
    };
    const countryValue = (rest: string): number => {
      const code = rest.length === 2 ? rest : rest.trim().toUpperCase();
      return COUNTRY.test(code) ? (code.charCodeAt(0) << 8) | code.charCodeAt(1) : 0;
    };

    const [asnIpv4, asnIpv6, countryIpv4, countryIpv6, hostingText] = await Promise.all([
      readFile(files.asnIpv4, 'utf8'),
      readFile(files.asnIpv6, 'utf8'),
      readFile(files.countryIpv4, 'utf8'),
      readFile(files.countryIpv6, 'utf8'),
      files.hostingAsns === undefined ? Promise.resolve(undefined) : readFile(files.hostingAsns, 'utf8'),
    ]);
    let invalidLines = 0;
    let skippedRows = 0;
    let nestedRows = 0;
    const table = async (text: string, words: 1 | 4, valueOf: (rest: string) => number): Promise<RangeTable> => {
      const builder = new RangeTableBuilder(words);
      const result = await readRangeCsv(text, builder, valueOf);
      invalidLines += result.invalidLines;
      skippedRows += builder.skipped;
      nestedRows += builder.nested;
      return builder.build();
    };
    const asnV4 = await table(asnIpv4, 1, asnValue);
    const asnV6 = await table(asnIpv6, 4, asnValue);
    const countryV4 = await table(countryIpv4, 1, countryValue);
    const countryV6 = await table(countryIpv6, 4, countryValue);
    const hosting = new Set(hostingText === undefined ? builtInHosting : parseAsnList(hostingText));
    const numbers = Uint32Array.from(asNumbers);
    return new IpEnrichmentData(asnV4, asnV6, countryV4, countryV6, numbers, AsOrganisations.of(asOrgs), hosting, {
      asnRanges: { ipv4: asnV4.size, ipv6: asnV6.size },
      countryRanges: { ipv4: countryV4.size, ipv6: countryV6.size },
      organisations: asOrgs.length,
      hostingAsns: hosting.size,
      invalidLines,
      skippedRows,
      nestedRows,
      bytes: asnV4.byteLength + asnV6.byteLength + countryV4.byteLength + countryV6.byteLength + numbers.byteLength,
    });
  }
}

/**
 * AS organisations by index, held as one text and the offsets where each ends (none for an empty
 * one = null): cheap to post between threads. Each string is cut from the text the first time a
 * lookup asks for it, then kept (pre-sized and filled so the array stays packed).
 */
export class AsOrganisations {
  private readonly made: Array<string | null | undefined>;

  constructor(
    readonly text: string,
    /** Organisation i is text[ends[i-1] (0 for i = 0), ends[i]). */
    readonly ends: Uint32Array,
  ) {
    if (ends.length > 0 && ends[ends.length - 1] !== text.length) {
      throw new RangeError('AS organisations: the offsets do not match the text.');
    }
    this.made = new Array<string | null | undefined>(ends.length).fill(undefined);
  }

  static of(organisations: readonly (string | null)[]): AsOrganisations {
    const ends = new Uint32Array(organisations.length);
    let length = 0;
    organisations.forEach((org, i) => (ends[i] = length += org?.length ?? 0));
    return new AsOrganisations(organisations.map((org) => org ?? '').join(''), ends);
  }

  get size(): number {
    return this.ends.length;
  }

  get(index: number): string | null {
    const known = this.made[index];
    if (known !== undefined) return known;
    const org = this.text.slice(index === 0 ? 0 : this.ends[index - 1], this.ends[index]) || null;
    this.made[index] = org;
    return org;
  }
}

/** One AS number per line, `AS` prefix optional, `#` comments. */
export function parseAsnList(text: string): number[] {
  const asns: number[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*(?:AS)?(\d{1,10})\b/i.exec(line.replace(/#.*/, ''));
    if (match) asns.push(Number(match[1]));
  }
  return asns;
}

function unquoteOrg(org: string): string {
  return org.length >= 2 && org.startsWith('"') && org.endsWith('"') ? org.slice(1, -1).replace(/""/g, '"') : org;
}

/** Country codes by their 16-bit value, made once each (a lookup then allocates no string). */
const COUNTRY_TEXT: Array<string | undefined> = [];

function countryCode(value: number): string | null {
  if (value === 0) return null;
  return (COUNTRY_TEXT[value] ??= String.fromCharCode(value >> 8, value & 0xff));
}

function toWords(bytes: readonly number[]): number[] {
  if (bytes.length === 4) return [((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0];
  if (bytes.length !== 16) throw new RangeError(`An address has 4 or 16 bytes, got ${bytes.length}.`);
  const words = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    words[i] = ((bytes[i * 4] << 24) | (bytes[i * 4 + 1] << 16) | (bytes[i * 4 + 2] << 8) | bytes[i * 4 + 3]) >>> 0;
  }
  return words;
}

function formatNetwork(words: readonly number[], prefix: number): string {
  const masked = words.map((word, i) => {
    const kept = Math.min(32, Math.max(0, prefix - i * 32));
    return kept === 0 ? 0 : kept === 32 ? word : (word & ((0xffffffff << (32 - kept)) >>> 0)) >>> 0;
  });
  if (words.length === 1) {
    const w = masked[0];
    return `${w >>> 24}.${(w >>> 16) & 0xff}.${(w >>> 8) & 0xff}.${w & 0xff}/${prefix}`;
  }
  return `${ipaddr.fromByteArray(wordsToBytes(masked)).toString()}/${prefix}`;
}
