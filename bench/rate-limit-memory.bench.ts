/**
 * `npm run bench:rate-limit-memory`: what the in-process rate-limit counters cost — heap per
 * client for BENCH_CLIENTS (1 000 000) distinct client addresses counted by the `default` limit in
 * one window (keys included, as a request builds them), the time per hit, and that the counters go
 * once two windows pass. Target: one million clients under 200 MB. Not a test: numbers only.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InProcessCounterStore } from '../src/rate-limit/in-process-counter.store';
import { RATE_LIMIT_WINDOW_MS, rateLimitKey } from '../src/rate-limit/rate-limits';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1_000_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function address(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

function main(): void {
  let now = 29_000_000 * RATE_LIMIT_WINDOW_MS + 1_000;
  const store = new InProcessCounterStore(() => now);
  const count = (i: number) =>
    store.countAllNow([
      { key: rateLimitKey('default', address(i)), windowMs: RATE_LIMIT_WINDOW_MS, limit: 120, cost: 1 },
    ]);

  gc();
  const before = process.memoryUsage().heapUsed;
  const started = process.hrtime.bigint();
  for (let i = 0; i < CLIENTS; i++) count(i);
  const firstPassNs = Number(process.hrtime.bigint() - started);
  gc();
  const held = process.memoryUsage().heapUsed - before;

  const again = process.hrtime.bigint();
  for (let i = 0; i < CLIENTS; i++) count(i);
  const secondPassNs = Number(process.hrtime.bigint() - again);

  now += 2 * RATE_LIMIT_WINDOW_MS;
  count(0);
  gc();
  const afterEviction = process.memoryUsage().heapUsed - before;

  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(`Node ${process.version}, ${CLIENTS} distinct clients in one window`);
  console.log(
    `heap held: ${mb(held)} MB (${(held / CLIENTS).toFixed(0)} bytes per client, key included) — target < 200 MB`,
  );
  console.log(
    `per hit: ${(firstPassNs / CLIENTS).toFixed(0)} ns for a new client, ${(secondPassNs / CLIENTS).toFixed(0)} ns for a known one`,
  );
  console.log(`two windows later: ${store.size} counter(s) held, heap ${mb(afterEviction)} MB above the start`);
}

main();
