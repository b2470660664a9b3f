/*
 * Image pipeline benchmark (`npm run bench:image`; not a test):
 *   npx ts-node --transpile-only bench/image.bench.ts [iterations] [uploads]
 *
 * 1. Peak RSS of the API process while `uploads` (default 20) distinct ~10 MB JPEGs are uploaded at
 *    once through the real HTTP stack (app on 127.0.0.1, local provider, embedded SQLite). The
 *    uploads come from a child process streaming files from disk, so only the server's memory is
 *    measured here.
 * 2. Median time to normalise a 12-megapixel JPEG through ImageProcessor.normalise versus a bare
 *    sharp pipeline doing the same steps (header read with the pixel limit, decode + orient +
 *    resize + sRGB to raw, JPEG encode), interleaved in one run; plus, for reference, the naive
 *    single sharp chain (rotate → resize → jpeg) that skips the raw round trip.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { ImageProcessor } from '../src/analysis/image-processor';
import { createApp } from '../src/app.setup';
import { registerBenchUser } from './support/accounts';
import { median } from './support/stats';

const MB = 1024 * 1024;
const MAX_EDGE = 1568;
const MAX_PIXELS = 40_000_000;
const UPLOAD_LIMIT_BYTES = 10 * MB;

const [iterationsArg, uploadsArg] = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const ITERATIONS = Number(iterationsArg ?? 15);
const UPLOADS = Number(uploadsArg ?? 20);

/** A 12 MP photo-like JPEG: noise compresses like real detail, so it decodes like a phone photo. */
async function twelveMegapixelJpeg(width = 4000, height = 3000, quality = 90): Promise<Buffer> {
  const noise = await sharp({
    create: { width, height, channels: 3, background: '#6a8caf', noise: { type: 'gaussian', mean: 120, sigma: 30 } },
  })
    .blur(0.8)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(noise.data, { raw: noise.info }).jpeg({ quality }).toBuffer();
}

/** A noisy JPEG just under the upload limit (quality searched so the file is 9–10 MB). */
async function nearLimitJpeg(): Promise<Buffer> {
  let [low, high] = [40, 100];
  let best: Buffer | undefined;
  while (low <= high) {
    const quality = Math.floor((low + high) / 2);
    const candidate = await twelveMegapixelJpeg(4000, 3000, quality);
    if (candidate.length <= UPLOAD_LIMIT_BYTES - 64 * 1024) {
      best = candidate;
      low = quality + 1;
    } else {
      high = quality - 1;
    }
  }
  if (!best) throw new Error('could not make a JPEG under the upload limit');
  return best;
}

/** The same JPEG with a unique comment segment after SOI: distinct bytes (no cache hits), still valid. */
function withComment(jpeg: Buffer, text: string): Buffer {
  const payload = Buffer.from(text, 'latin1');
  const marker = Buffer.from([0xff, 0xfe, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), marker, payload, jpeg.subarray(2)]);
}

// ---------------------------------------------------------------------------------------------
// Child process: writes the upload files and sends them all at once.
// ---------------------------------------------------------------------------------------------

interface ClientReport {
  fileBytes: number;
  statuses: number[];
  seconds: number;
}

async function runClient(url: string, token: string, count: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'argus-bench-uploads-'));
  try {
    const base = await nearLimitJpeg();
    const files = Array.from({ length: count }, (_, index) => {
      const path = join(dir, `upload-${index}.jpg`);
      writeFileSync(path, withComment(base, `argus bench upload ${index} ${Date.now()}`));
      return path;
    });
    process.send?.({ ready: true });
    await once(process, 'message');

    const started = performance.now();
    const statuses = await Promise.all(files.map((path) => upload(url, token, path)));
    const report: ClientReport = {
      fileBytes: statSync(files[0]).size,
      statuses,
      seconds: (performance.now() - started) / 1000,
    };
    process.send?.(report);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function upload(url: string, token: string, path: string): Promise<number> {
  const boundary = `----argus-bench-${basename(path)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${basename(path)}"\r\n` +
      'Content-Type: image/jpeg\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + statSync(path).size + tail.length;
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/analyses`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': length,
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(head);
    const file = createReadStream(path);
    file.pipe(req, { end: false });
    file.on('end', () => req.end(tail));
  });
}

// ---------------------------------------------------------------------------------------------
// Main process: the API, the RSS sampler, then the normalisation timings.
// ---------------------------------------------------------------------------------------------

async function measureUploads(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-bench-'));
  const app = await createApp({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    AI_PROVIDER: 'local',
    BCRYPT_COST: '10',
    JWT_SECRET: 'bench-secret-that-is-long-enough-for-anything-0123456789',
    RATE_LIMIT_PER_MINUTE: '100000',
    AUTH_RATE_LIMIT_PER_MINUTE: '100000',
    ANALYSIS_RATE_LIMIT_PER_MINUTE: '100000',
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('not listening');
  const url = `http://127.0.0.1:${address.port}`;

  try {
    const accessToken = await registerBenchUser(url);

    // Warm up: one small analysis loads sharp, the routes and the database.
    const form = new FormData();
    form.append(
      'file',
      new Blob([
        await sharp({ create: { width: 64, height: 64, channels: 3, background: '#f00' } })
          .jpeg()
          .toBuffer(),
      ]),
      'w.jpg',
    );
    const warm = await fetch(`${url}/v1/analyses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}` },
      body: form,
    });
    if (warm.status !== 201) throw new Error(`warm-up upload failed: HTTP ${warm.status}`);

    const child = fork(__filename, ['--client', url, accessToken, String(UPLOADS)], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
    });
    await once(child, 'message'); // files written
    await new Promise((resolve) => setTimeout(resolve, 200));
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let atPeak = process.memoryUsage();
    const sampler = setInterval(() => {
      const usage = process.memoryUsage();
      if (usage.rss > peak) {
        peak = usage.rss;
        atPeak = usage;
      }
    }, 5);
    child.send({ go: true });
    const [report] = (await once(child, 'message')) as [ClientReport];
    clearInterval(sampler);
    child.kill();

    const created = report.statuses.filter((status) => status === 201).length;
    console.log('\n== Peak RSS while uploads are processed (HTTP stack, local provider) ==');
    console.log(`uploads:           ${UPLOADS} concurrent × ${(report.fileBytes / MB).toFixed(2)} MB (12 MP JPEG)`);
    console.log(
      `answers:           ${created} × 201${created === UPLOADS ? '' : `, others: ${report.statuses.filter((s) => s !== 201).join(', ')}`}`,
    );
    console.log(`wall time:         ${report.seconds.toFixed(2)} s`);
    console.log(`RSS before:        ${(baseline / MB).toFixed(0)} MB`);
    console.log(
      `RSS peak:          ${(peak / MB).toFixed(0)} MB (+${((peak - baseline) / MB).toFixed(0)} MB; the bodies alone are ${((report.fileBytes * UPLOADS) / MB).toFixed(0)} MB)`,
    );
    console.log(
      `at the peak:       JS heap ${(atPeak.heapUsed / MB).toFixed(0)} MB, Buffers ${(atPeak.arrayBuffers / MB).toFixed(0)} MB, other native (libvips, allocator) ${((atPeak.rss - atPeak.heapTotal - atPeak.arrayBuffers) / MB).toFixed(0)} MB`,
    );
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureNormalisation(): Promise<void> {
  const processor = new ImageProcessor({ maxInputPixels: MAX_PIXELS, maxEdge: MAX_EDGE });
  const input = await twelveMegapixelJpeg();
  const inputOptions: sharp.SharpOptions = { limitInputPixels: MAX_PIXELS, failOn: 'error', animated: false };

  const bareSameSteps = async (): Promise<Buffer> => {
    const metadata = await sharp(input, inputOptions).metadata();
    if (metadata.width * metadata.height > MAX_PIXELS) throw new Error('too large');
    const { data, info } = await sharp(input, inputOptions)
      .autoOrient()
      .resize({ width: MAX_EDGE, height: MAX_EDGE, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
      .removeAlpha()
      .jpeg({ quality: 82 })
      .toBuffer();
  };
  const bareSingleChain = (): Promise<Buffer> =>
    sharp(input, inputOptions)
      .autoOrient()
      .resize({ width: MAX_EDGE, height: MAX_EDGE, fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .jpeg({ quality: 82 })
      .toBuffer();
  const service = async (): Promise<Buffer> => (await processor.normalise(input)).data;

  const candidates: Array<[string, () => Promise<Buffer>]> = [
    ['ImageProcessor.normalise', service],
    ['bare sharp, same steps', bareSameSteps],
    ['bare sharp, single chain (reference)', bareSingleChain],
  ];
  const timings = new Map<string, number[]>(candidates.map(([name]) => [name, []]));
  for (const [, run] of candidates) await run(); // warm-up
  for (let round = 0; round < ITERATIONS; round++) {
    for (const [name, run] of candidates) {
      const started = performance.now();
      await run();
      timings.get(name)?.push(performance.now() - started);
    }
  }

  const medians = new Map([...timings].map(([name, values]) => [name, median(values)]));
  const serviceMedian = medians.get('ImageProcessor.normalise') ?? 0;
  const bareMedian = medians.get('bare sharp, same steps') ?? 0;
  const metadata = await sharp(input).metadata();
  console.log('\n== Normalising a 12-megapixel JPEG (median of', ITERATIONS, 'interleaved runs) ==');
  console.log(
    `input:             ${metadata.width}×${metadata.height}, ${(input.length / MB).toFixed(2)} MB; output long edge ${MAX_EDGE}`,
  );
  for (const [name, value] of medians) console.log(`${name.padEnd(38)} ${value.toFixed(1)} ms`);
  console.log(
    `service overhead over the same bare steps: ${(serviceMedian - bareMedian).toFixed(1)} ms (${(((serviceMedian - bareMedian) / bareMedian) * 100).toFixed(1)} %)`,
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--client')) {
    const [url, token, count] = process.argv.slice(process.argv.indexOf('--client') + 1);
    await runClient(url, token, Number(count));
    return;
  }
  console.log(
    `node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${availableParallelism()} CPUs`,
  );
  await measureUploads();
  await measureNormalisation();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
