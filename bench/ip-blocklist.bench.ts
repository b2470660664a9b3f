/*
 * Blocklist load and lookup benchmark (also run by `npm run bench:ip`, bench/ip.bench.ts).
 *   npx ts-node --transpile-only bench/ip-blocklist.bench.ts [cidrCount] [lookupCount]
 *
 * Writes `cidrCount` random CIDRs (70 % IPv4, 30 % IPv6, with the comments real lists carry) to a
 * temp file, then measures: load (read + parse + build the matcher), the memory the matcher keeps,
 * and matches per second over `lookupCount` pre-parsed addresses (a tenth inside listed networks).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BlocklistMatcher } from '../src/ip/blocklist/blocklist-matcher';
import { parseIpNetwork } from '../src/ip/ip-address';
import { blocklistNameFromFile, parseBlocklist } from '../src/ip/blocklist/blocklist-parser';
import { seededRandom } from '../test/support/seeded-random';

const DEFAULT_CIDR_COUNT = 100_000;
const DEFAULT_LOOKUP_COUNT = 1_000_000;
const IPV4_SHARE = 0.7;
const KNOWN_HIT_SHARE = 0.1;
// Shaped like real feeds: mostly hosts and /24s, some provider blocks, few wide ranges.
const IPV4_PREFIX_LENGTHS = [16, 18, 20, 21, 22, 23, 24, 24, 24, 24, 28, 32, 32, 32, 32, 32, 32, 32, 32];
const IPV6_PREFIX_LENGTHS = [29, 32, 36, 40, 44, 48, 48, 56, 64, 64, 128, 128];

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const random = seededRandom(42);
const randomInt = (max: number): number => Math.floor(random() * max);
const pick = <T>(items: readonly T[]): T => items[randomInt(items.length)];

function randomIpv4Cidr(): string {
  const address = [1 + randomInt(223), randomInt(256), randomInt(256), randomInt(256)].join('.');
  return `${address}/${pick(IPV4_PREFIX_LENGTHS)}`;
}

function randomIpv6Cidr(): string {
  const groups = [0x2000 + randomInt(0x2000), ...Array.from({ length: 7 }, () => randomInt(0x10000))];
  return `${groups.map((group) => group.toString(16)).join(':')}/${pick(IPV6_PREFIX_LENGTHS)}`;
}

function listLine(index: number): string {
  const cidr = random() < IPV4_SHARE ? randomIpv4Cidr() : randomIpv6Cidr();
  return index % 10 === 0 ? `${cidr} ; SBL${100_000 + index}` : cidr;
}

function writeListFile(directory: string, cidrCount: number): { path: string; cidrs: string[] } {
  const cidrs: string[] = [];
  const lines = ['# benchmark list', '; generated', ''];
  for (let i = 0; i < cidrCount; i++) {
    const line = listLine(i);
    lines.push(line);
    cidrs.push(line.split(' ')[0]);
  }
  const path = join(directory, 'bench-list.netset');
  writeFileSync(path, lines.join('\n'));
  return { path, cidrs };
}

interface Lookup {
  bytes: number[];
}

/** A random address inside the network: its bytes with random host bits. */
function addressInside(cidr: string): Lookup {
  const { bytes, prefixLen } = parseIpNetwork(cidr);
  return {
    bytes: bytes.map((byte, index) => {
      const hostBits = Math.min(8, Math.max(0, index * 8 + 8 - prefixLen));
      return byte | (randomInt(256) & ((1 << hostBits) - 1));
    }),
  };
}

function randomAddress(): Lookup {
  const length = random() < IPV4_SHARE ? 4 : 16;
  return { bytes: Array.from({ length }, () => randomInt(256)) };
}

function makeLookups(cidrs: readonly string[], lookupCount: number): Lookup[] {
  return Array.from({ length: lookupCount }, () =>
    random() < KNOWN_HIT_SHARE ? addressInside(pick(cidrs)) : randomAddress(),
  );
}

interface Loaded {
  matcher: BlocklistMatcher;
  entries: number;
  invalidLines: number;
  parseMs: number;
  buildMs: number;
  rssAfterLoad: number;
}

function load(path: string): Loaded {
  const start = performance.now();
  const parsed = parseBlocklist(readFileSync(path, 'utf8'));
  const parsedAt = performance.now();
  const matcher = new BlocklistMatcher([{ name: blocklistNameFromFile(path), entries: parsed.entries }]);
  const builtAt = performance.now();
  return {
    matcher,
    entries: parsed.entries.length,
    invalidLines: parsed.invalidLines,
    parseMs: parsedAt - start,
    buildMs: builtAt - parsedAt,
    rssAfterLoad: process.memoryUsage().rss,
  };
}

function timeMatches(matcher: BlocklistMatcher, lookups: readonly Lookup[]): { ms: number; hits: number } {
  for (let i = 0; i < Math.min(50_000, lookups.length); i++) {
    matcher.match(lookups[i]); // warm-up, so the timed loop runs optimised code
  }
  let hits = 0;
  const start = performance.now();
  for (const lookup of lookups) {
    if (matcher.match(lookup).length > 0) {
      hits++;
    }
  }
  return { ms: performance.now() - start, hits };
}

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export interface BlocklistBenchResult {
  cidrs: number;
  lookups: number;
  loadMs: number;
  trieBytes: number;
  retainedBytes: number;
  matchesPerSecond: number;
}

/** Runs the benchmark, prints its report and returns the headline numbers. */
export function runBlocklistBench(
  cidrCount = DEFAULT_CIDR_COUNT,
  lookupCount = DEFAULT_LOOKUP_COUNT,
): BlocklistBenchResult {
  const directory = mkdtempSync(join(tmpdir(), 'argus-bench-'));
  try {
    const { path, cidrs } = writeListFile(directory, cidrCount);
    collectGarbage();
    const before = process.memoryUsage();

    const loaded = load(path);
    collectGarbage();
    const retained = process.memoryUsage();

    const lookups = makeLookups(cidrs, lookupCount);
    const { ms, hits } = timeMatches(loaded.matcher, lookups);
    const stats = loaded.matcher.stats;
    const matchesPerSecond = Math.round(lookups.length / (ms / 1000));
    const retainedBytes = retained.heapUsed - before.heapUsed + (retained.arrayBuffers - before.arrayBuffers);

    console.log(`node ${process.version}; ${cidrCount} CIDRs; ${lookupCount} lookups`);
    console.log(`entries loaded         ${loaded.entries} (invalid lines ${loaded.invalidLines})`);
    console.log(
      `distinct networks      v4 ${stats.ipv4Networks}, v6 ${stats.ipv6Networks}; trie nodes ${stats.trieNodes}`,
    );
    console.log(`load: read + parse     ${loaded.parseMs.toFixed(0)} ms`);
    console.log(`load: build tries      ${loaded.buildMs.toFixed(0)} ms`);
    console.log(`load: total            ${(loaded.parseMs + loaded.buildMs).toFixed(0)} ms`);
    console.log(`trie typed arrays      ${megabytes(stats.trieBytes)} (exact)`);
    console.log(
      `retained heap delta    ${megabytes(retained.heapUsed - before.heapUsed)} (JS side: value array, names)`,
    );
    console.log(`retained arrayBuffers  ${megabytes(retained.arrayBuffers - before.arrayBuffers)}`);
    console.log(
      `RSS delta after load   ${megabytes(loaded.rssAfterLoad - before.rss)} (peak-ish, parse garbage included)`,
    );
    console.log(`RSS delta after GC     ${megabytes(retained.rss - before.rss)}`);
    console.log(`matches                ${ms.toFixed(0)} ms -> ${matchesPerSecond} /s (${hits} hits)`);
    return {
      cidrs: cidrCount,
      lookups: lookupCount,
      loadMs: loaded.parseMs + loaded.buildMs,
      trieBytes: stats.trieBytes,
      retainedBytes,
      matchesPerSecond,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runBlocklistBench(Number(process.argv[2] ?? DEFAULT_CIDR_COUNT), Number(process.argv[3] ?? DEFAULT_LOOKUP_COUNT));
}
