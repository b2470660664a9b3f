/**
 * `npm run load`: an open-loop, fixed-rate mixed workload against a real Argus process.
 *
 * Requests arrive at LOAD_RATE per second for LOAD_DURATION_S seconds whatever the server's
 * latency (open loop: a slow server cannot slow the arrivals down and hide its queueing). Mix:
 *   2 % logins (bcrypt at BCRYPT_COST), 55 % cached IP lookups (a hot set), 25 % uncached IP
 *   lookups (AbuseIPDB fake, ~60 ms), 18 % image uploads (OpenAI fake, ~800 ms; 4 in 5 repeat a
 *   recent image and are answered from cache).
 * Prints throughput, p50/p95/p99/max and errors overall and per kind, upstream calls and the cache
 * hit ratio. LOAD_SAMPLE_RSS_S samples the server's RSS (a soak: LOAD_DURATION_S=600).
 *
 * Jobs: LOAD_AI_DELAY_MS sets the OpenAI fake's latency (default 800; the issue's target runs 5000),
 * LOAD_PREFER the uploads' `Prefer` header (e.g. `respond-async`: uploads answer 202 at once and the
 * jobs finish after), LOAD_WORKERS starts that many extra `ARGUS_ROLE=worker` processes beside the
 * server (which then runs `ARGUS_ROLE=api`; needs LOAD_DATABASE_URL and LOAD_REDIS_URL). The queue
 * depth is printed every 5 s, and at the end how long the remaining jobs took to finish.
 *
 * Argus runs from dist/ (build first) with PostgreSQL and Redis when LOAD_DATABASE_URL /
 * LOAD_REDIS_URL are given, else SQLite and in-process. Limits are raised: this measures capacity,
 * not the rate limiter. Loopback only.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbuseIpDbFake } from '../test/fakes/abuseipdb-fake';
import { OpenAiFake } from '../test/fakes/openai-fake';
import { ARGUS_BENCH_ENV, stop, waitForOk } from './support/processes';
import { registerBenchUser } from './support/accounts';
import { LoadImagePicker, loadImageCount, makeLoadImage, uploadForm } from './support/load';

const ROOT = join(__dirname, '..');
const RATE = Number(process.env.LOAD_RATE ?? 100);
const DURATION_S = Number(process.env.LOAD_DURATION_S ?? 60);
const SAMPLE_RSS_S = Number(process.env.LOAD_SAMPLE_RSS_S ?? 0);
const PORT = Number(process.env.LOAD_PORT ?? 4201);
const BASE = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'load-test-password-123';
const USERS = 20;
const AI_DELAY_MS = Number(process.env.LOAD_AI_DELAY_MS ?? 800);
const PREFER = process.env.LOAD_PREFER;
const WORKERS = Number(process.env.LOAD_WORKERS ?? 0);

type Kind = 'login' | 'ip-cached' | 'ip-fresh' | 'upload';
const MIX: [Kind, number][] = [
  ['login', 0.02],
  ['ip-cached', 0.55],
  ['ip-fresh', 0.25],
  ['upload', 0.18],
];

interface Sample {
  kind: Kind;
  ms: number;
  ok: boolean;
  status: number;
}

function pickKind(): Kind {
  let roll = Math.random();
  for (const [kind, share] of MIX) {
    if ((roll -= share) < 0) return kind;
  }
  return 'ip-cached';
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function randomPublicIp(): string {
  // 11.0.0.0–126.255.255.255 avoids private, loopback and reserved ranges.
  const a = 11 + Math.floor(Math.random() * 116);
  return `${a === 100 ? 101 : a}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
}

/** One upload answered 415, for the report: which image, its size, first bytes and hash, and the problem. */
function describeRefused(index: number, image: Buffer, problem: string): string {
  const sha256 = createHash('sha256').update(image).digest('hex').slice(0, 16);
  return `image ${index}: ${image.length} bytes, head ${image.subarray(0, 8).toString('hex')}, sha256 ${sha256}…; ${problem.slice(0, 300)}`;
}

function rssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

async function metricSum(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${BASE}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

/** Unfinished jobs, as the server reports them (table-wide, refreshed every 5 s). */
async function queueDepth(): Promise<{ waiting: number; active: number }> {
  return {
    waiting: await metricSum('argus_queue_depth', 'state="waiting"'),
    active: await metricSum('argus_queue_depth', 'state="active"'),
  };
}

async function main(): Promise<void> {
  const openai = new OpenAiFake();
  const abuse = new AbuseIpDbFake({ validKeys: ['load-key'], dailyLimit: 10_000_000 });
  await Promise.all([openai.start(), abuse.start()]);
  openai.delay(AI_DELAY_MS);
  abuse.delay(60);

  const dataDir = mkdtempSync(join(tmpdir(), 'argus-load-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ...ARGUS_BENCH_ENV,
    DATA_DIR: dataDir,
    BCRYPT_COST: process.env.BCRYPT_COST ?? '12',
    AI_PROVIDER: 'openai',
    OPENAI_API_KEY: openai.apiKey,
    OPENAI_BASE_URL: `${openai.url}/v1`,
    ABUSEIPDB_API_KEY: 'load-key',
    ABUSEIPDB_BASE_URL: `${abuse.url}/api/v2`,
    ...(process.env.LOAD_DATABASE_URL ? { DATABASE_URL: process.env.LOAD_DATABASE_URL } : {}),
    ...(process.env.LOAD_REDIS_URL
      ? { REDIS_URL: process.env.LOAD_REDIS_URL, REDIS_KEY_PREFIX: `load-${Date.now()}:` }
      : {}),
  };
  const server = spawn(process.execPath, ['dist/main.js'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...env, PORT: String(PORT), ...(WORKERS > 0 ? { ARGUS_ROLE: 'api' } : {}) },
  });
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    spawn(process.execPath, ['dist/main.js'], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...env, PORT: String(PORT + 1 + i), ARGUS_ROLE: 'worker' },
    }),
  );

  try {
    // Fails at once if the server exits during start-up (a bad setting), rather than waiting forever.
    await waitForOk(`${BASE}/health/ready`, server, 60_000);
    const users = await Promise.all(
      Array.from({ length: USERS }, async (_, i) => {
        const email = `load-${Date.now()}-${i}@example.com`;
        return { email, token: await registerBenchUser(BASE, email, PASSWORD) };
      }),
    );
    const hotIps = Array.from({ length: 50 }, randomPublicIp);
    for (const ip of hotIps) {
      await fetch(`${BASE}/v1/ip/${ip}`, { headers: { Authorization: `Bearer ${users[0].token}` } });
    }
    const uploadShare = MIX.find(([kind]) => kind === 'upload')?.[1] ?? 0;
    const images = await Promise.all(
      Array.from({ length: loadImageCount(RATE, DURATION_S, uploadShare) }, (_, i) => makeLoadImage(i)),
    );
    const picker = new LoadImagePicker(images.length);
    // Every upload refused with 415, by image: the images are all valid JPEGs (test/load-generator.e2e-spec.ts).
    const refusedImages: string[] = [];
    const upstreamBefore = openai.callCount;
    const abuseBefore = abuse.callCount;

    const fire = async (kind: Kind): Promise<Sample> => {
      const user = users[Math.floor(Math.random() * users.length)];
      const auth = { Authorization: `Bearer ${user.token}` };
      const started = performance.now();
      let res: Response;
      let image: number | undefined;
      try {
        switch (kind) {
          case 'login':
            res = await fetch(`${BASE}/v1/auth/login`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json' },
              body: JSON.stringify({ email: user.email, password: PASSWORD }),
            });
            break;
          case 'ip-cached':
            res = await fetch(`${BASE}/v1/ip/${hotIps[Math.floor(Math.random() * hotIps.length)]}`, { headers: auth });
            break;
          case 'ip-fresh':
            res = await fetch(`${BASE}/v1/ip/${randomPublicIp()}`, { headers: auth });
            break;
          case 'upload': {
            image = picker.next();
            const headers = PREFER ? { ...auth, Prefer: PREFER } : auth;
            res = await fetch(`${BASE}/v1/analyses`, { method: 'POST', headers, body: uploadForm(images[image]) });
            break;
          }
        }
        const body = Buffer.from(await res.arrayBuffer());
        if (image !== undefined && res.status === 415) {
          refusedImages.push(describeRefused(image, images[image], body.toString('utf8')));
        }
        return { kind, ms: performance.now() - started, ok: res.status < 400, status: res.status };
      } catch {
        return { kind, ms: performance.now() - started, ok: false, status: 0 };
      }
    };

    const samples: Promise<Sample>[] = [];
    const rss: { t: number; mb: number }[] = [];
    const depth: string[] = [];
    const sampleDepth = setInterval(() => {
      void queueDepth().then((d) =>
        depth.push(`${Math.round((Date.now() - started) / 1000)}s:${d.waiting}+${d.active}`),
      );
    }, 5000);
    const started = Date.now();
    const total = RATE * DURATION_S;
    let lastRss = -Infinity;
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      samples.push(fire(pickKind()));
      if (SAMPLE_RSS_S > 0 && Date.now() - lastRss >= SAMPLE_RSS_S * 1000) {
        lastRss = Date.now();
        rss.push({ t: Math.round((Date.now() - started) / 1000), mb: Math.round(rssMb(server)) });
      }
    }
    const done = await Promise.all(samples);
    const elapsedS = (Date.now() - started) / 1000;
    // The jobs accepted last finish after the load stops: how long until the queue is empty.
    for (let d = await queueDepth(); d.waiting + d.active > 0; d = await queueDepth()) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    const drainedS = (Date.now() - started) / 1000 - elapsedS;
    clearInterval(sampleDepth);

    const hits = await metricSum('argus_cache_requests_total', 'result="hit"');
    const misses = await metricSum('argus_cache_requests_total', 'result="miss"');
    const rows = (['all', ...MIX.map(([kind]) => kind)] as const).map((kind) => {
      const set = kind === 'all' ? done : done.filter((sample) => sample.kind === kind);
      const ms = set.map((sample) => sample.ms).sort((x, y) => x - y);
      const errors = set.filter((sample) => !sample.ok);
      return {
        kind,
        requests: set.length,
        'p50 ms': Math.round(percentile(ms, 50)),
        'p95 ms': Math.round(percentile(ms, 95)),
        'p99 ms': Math.round(percentile(ms, 99)),
        'max ms': Math.round(ms[ms.length - 1] ?? NaN),
        'error %': set.length ? Number(((100 * errors.length) / set.length).toFixed(2)) : 0,
        statuses: [...new Set(errors.map((sample) => sample.status))].join(' '),
      };
    });

    console.log(`\ntarget ${RATE} req/s for ${DURATION_S} s; achieved ${(done.length / elapsedS).toFixed(1)} req/s`);
    console.table(rows);
    console.log(
      `upstream AI calls: ${openai.callCount - upstreamBefore}; AbuseIPDB calls: ${abuse.callCount - abuseBefore}`,
    );
    console.log(
      `cache hit ratio: ${((100 * hits) / Math.max(1, hits + misses)).toFixed(1)} % (${hits} hits, ${misses} misses)`,
    );
    console.log(`queue depth (waiting+active) every 5 s: ${depth.join(' ')}`);
    const succeeded = await metricSum('argus_jobs_total', 'outcome="succeeded"');
    const failed = await metricSum('argus_jobs_total', 'outcome="failed"');
    console.log(
      `jobs: ${succeeded} succeeded, ${failed} failed on the server's process${WORKERS > 0 ? ' (the workers count theirs)' : ''}; ` +
        `the queue was empty ${drainedS.toFixed(1)} s after the load stopped`,
    );
    if (refusedImages.length > 0) console.log(`uploads answered 415:\n  ${refusedImages.join('\n  ')}`);
    if (rss.length > 0) {
      console.log(`RSS MB every ${SAMPLE_RSS_S} s: ${rss.map((point) => point.mb).join(' ')}`);
      console.log(`RSS start ${rss[0].mb} MB, end ${rss[rss.length - 1].mb} MB`);
    }
  } finally {
    await Promise.all([server, ...workers].map(stop));
    await Promise.all([openai.close(), abuse.close()]);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
