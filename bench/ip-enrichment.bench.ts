/**
 * `npm run bench:ip-enrichment` — the offline IP enrichment (docs/performance.md):
 *   - load time of the four shipped CSV files (IPv4 + IPv6 ASN and country ranges), as the service
 *     loads them (`worker`: parsed in a worker thread, typed arrays transferred back) and on the
 *     main thread (`inThread`: IpEnrichmentData.load, how the service loaded them before);
 *   - the event loop's longest stall during that load (perf_hooks.monitorEventLoopDelay, max, at
 *     10 ms resolution; also the longest gap between two 10 ms setInterval ticks): what a request
 *     arriving in that window waits at worst;
 *   - memory: heap + external memory (array buffers included: typed arrays transferred from the
 *     worker count as external, not as this isolate's arrayBuffers) after a forced GC, before and
 *     after the worker load (run with
 *     --expose-gc, which the npm script passes), and the typed arrays' own size;
 *   - lookups per second over 1 000 000 random public IPv4 addresses and 200 000 random IPv6
 *     addresses inside 2000::/3 (each lookup returns asn, asOrg, network, country, usageType).
 * In process, no server: this measures the data structure, not the HTTP stack.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { enrichmentFiles } from '../src/ip/enrichment/enrichment-files';
import { HOSTING_ASNS } from '../src/ip/enrichment/hosting-asns';
import { IpEnrichmentData } from '../src/ip/enrichment/ip-enrichment-data';
import { loadInWorker } from '../src/ip/enrichment/ip-enrichment-loader';

const V4_LOOKUPS = Number(process.env.BENCH_ENRICH_V4 ?? 1_000_000);
const V6_LOOKUPS = Number(process.env.BENCH_ENRICH_V6 ?? 200_000);

function memoryMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  const { heapUsed, external } = process.memoryUsage();
  return (heapUsed + external) / 1024 / 1024;
}

function randomV4(): number[] {
  return [1 + Math.floor(Math.random() * 222), ...Array.from({ length: 3 }, () => Math.floor(Math.random() * 256))];
}

function randomV6(): number[] {
  const bytes = Array.from({ length: 16 }, () => Math.floor(Math.random() * 256));
  bytes[0] = 0x20 + Math.floor(Math.random() * 0x20); // 2000::/3
  return bytes;
}

/**
 * Lookups per second of wall time and per second of this process's CPU time: on a shared machine
 * (other processes on the same cores) the CPU figure is the one that says what the code costs.
 */
function rate(
  addresses: number[][],
  lookup: (bytes: number[]) => unknown,
): { perSecond: number; perCpuSecond: number; found: number } {
  let found = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (const bytes of addresses) if ((lookup(bytes) as { asn: number | null }).asn !== null) found++;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  const seconds = (performance.now() - started) / 1000;
  return {
    perSecond: Math.round(addresses.length / seconds),
    perCpuSecond: Math.round(addresses.length / cpuSeconds),
    found,
  };
}

async function timedLoad(load: () => Promise<IpEnrichmentData>) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const watched = await watchingEventLoop(load);
  const { user, system } = process.cpuUsage(cpu);
  return {
    data: watched.value,
    result: {
      ms: Math.round(performance.now() - started),
      cpuMs: Math.round((user + system) / 1000),
      maxEventLoopStallMs: watched.maxStallMs,
      maxTickGapMs: watched.maxTickGapMs,
    },
  };
}

/** Runs `work` while watching the event loop: its longest stall (histogram max) and longest tick gap, in ms. */
async function watchingEventLoop<T>(
  work: () => Promise<T>,
): Promise<{ value: T; maxStallMs: number; maxTickGapMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  let last = performance.now();
  let maxTickGapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxTickGapMs = Math.max(maxTickGapMs, now - last);
    last = now;
  }, 10);
  histogram.enable();
  try {
    const value = await work();
    const now = performance.now();
    maxTickGapMs = Math.max(maxTickGapMs, now - last);
    return { value, maxStallMs: Math.round(histogram.max / 1e6), maxTickGapMs: Math.round(maxTickGapMs) };
  } finally {
    histogram.disable();
    clearInterval(ticker);
  }
}

async function main(): Promise<void> {
  const files = enrichmentFiles(undefined);
  const hosting = HOSTING_ASNS.map(([asn]) => asn);
  // As the service loads (a worker thread, arrays transferred back), then on this thread (as before
  // the worker) for comparison: time, CPU of this process (the worker's included) and stalls.
  const before = memoryMb();
  const worker = await timedLoad(() => loadInWorker(files, hosting));
  const after = memoryMb();
  const inThread = await timedLoad(() => IpEnrichmentData.load(files, hosting));
  const data = worker.data;

  const v4 = Array.from({ length: V4_LOOKUPS }, randomV4);
  const v6 = Array.from({ length: V6_LOOKUPS }, randomV6);
  rate(v4.slice(0, 50_000), (bytes) => data.lookup(bytes)); // warm-up
  const ipv4 = rate(v4, (bytes) => data.lookup(bytes));
  const ipv6 = rate(v6, (bytes) => data.lookup(bytes));

  const result = {
    node: process.version,
    load: { worker: worker.result, inThread: inThread.result },
    memoryMb: Math.round((after - before) * 10) / 10,
    typedArraysMb: Math.round((data.stats.bytes / 1024 / 1024) * 10) / 10,
    stats: data.stats,
    ipv4LookupsPerSecond: ipv4.perSecond,
    ipv4LookupsPerCpuSecond: ipv4.perCpuSecond,
    ipv4WithAsn: `${Math.round((ipv4.found / v4.length) * 100)}%`,
    ipv6LookupsPerSecond: ipv6.perSecond,
    ipv6LookupsPerCpuSecond: ipv6.perCpuSecond,
    sample: {
      '8.8.8.8': data.lookup([8, 8, 8, 8]),
      '1.1.1.1': data.lookup([1, 1, 1, 1]),
      '2001:4860:4860::8888': data.lookup([0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88]),
    },
  };
  console.log(JSON.stringify(result, null, 2));
}

void main();
