/**
 * bench:vision — the local models on one core: model load (first call), then objects + OCR per
 * 1568 px image (p50/p95 wall, CPU per run), RSS growth of the process (workers included), and the near-duplicate
 * hash: distances of resized/re-encoded copies and false positives among distinct images. Then the
 * CPU of each model on its own (objects, text), run on this thread from the inputs VisionService prepares.
 * Run: `taskset -c 0 npm run bench:vision` (VISION_BENCH_RUNS, default 20). The script caps glibc's malloc
 * arenas at 2, as docker/Dockerfile does for the image; `MALLOC_ARENA_MAX= npm run bench:vision` measures
 * glibc's default (8 arenas per core: ~40–60 MB more RSS growth here, the same CPU).
 */
import sharp from 'sharp';
import { configureSharp } from '../src/analysis/image-processor';
import { hammingDistance, PerceptualHash } from '../src/analysis/near-duplicate/perceptual-hash';
import { ObjectDetector } from '../src/vision/object-detector';
import { TextReader } from '../src/vision/text-reader';
import { VisionPool } from '../src/vision/vision-pool';
import { VisionService } from '../src/vision/vision.service';
import type { InspectTask } from '../src/vision/vision.types';
import { stopSignWithSpeedLimit } from '../test/fixtures/vision-images';

const RUNS = Number(process.env.VISION_BENCH_RUNS ?? 20);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  // libvips as the app sets it up (src/analysis/image-processor.ts): no operation cache, one thread
  // per image. sharp's default cache kept ~10–30 MB of decoded copies of the test image here.
  configureSharp(1);
  const image = await stopSignWithSpeedLimit();
  const rssBefore = process.memoryUsage().rss;
  const vision = new VisionService(new VisionPool(1));
  const mb = (bytes: number) => Math.round(bytes / 1e6);
  console.log(`glibc arenas: MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX || '(unset: glibc default)'}`);

  // Model loads, one at a time, as VisionWarmup does at start (wall and CPU of the whole process).
  for (const [name, models] of [
    ['CenterNet (objects)', { objects: true }],
    ['PaddleOCR (text)', { text: true }],
    ['NSFW MobileNetV2 (safety)', { safety: true }],
  ] as const) {
    const [started, cpu] = [performance.now(), process.cpuUsage()];
    await vision.warmUp(models);
    const { user, system } = process.cpuUsage(cpu);
    console.log(
      `load ${name}: ${Math.round(performance.now() - started)} ms wall, ${Math.round((user + system) / 1000)} ms CPU; ` +
        `RSS ${mb(process.memoryUsage().rss)} MB`,
    );
  }
  const rssLoaded = process.memoryUsage().rss;

  let started = performance.now();
  const first = await vision.inspect(image, { objects: true, text: true, safety: true });
  console.log('first analysis after the load:', Math.round(performance.now() - started), 'ms');
  console.log(
    'findings:',
    JSON.stringify({ objects: first.objects?.map((o) => o.label), text: first.text?.map((t) => t.text) }),
  );

  const times: number[] = [];
  const cpuBefore = process.cpuUsage();
  for (let run = 0; run < RUNS; run++) {
    started = performance.now();
    await vision.inspect(image, { objects: true, text: true });
    times.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const safety: number[] = [];
  for (let run = 0; run < 5; run++) {
    started = performance.now();
    await vision.inspect(image, { safety: true });
    safety.push(performance.now() - started);
  }
  const rssAfter = process.memoryUsage().rss;
  console.log(
    `objects + OCR, 1568 px, ${RUNS} runs: p50 ${Math.round(percentile(times, 50))} ms, p95 ${Math.round(percentile(times, 95))} ms ` +
      `wall; ${Math.round((cpu.user + cpu.system) / 1000 / RUNS)} ms CPU per run (all threads)`,
  );
  console.log(`safety classifier: p50 ${Math.round(percentile(safety, 50))} ms`);
  console.log(
    `RSS growth: ${mb(rssAfter - rssBefore)} MB (before ${mb(rssBefore)} MB, models loaded +${mb(rssLoaded - rssBefore)} MB)`,
  );
  await vision.onModuleDestroy();
  await cpuPerModel(image);

  // Near-duplicates: copies of one scene, and distinct scenes
  const hash = await PerceptualHash.of(image);
  const copies = {
    'jpeg q60': await sharp(image).jpeg({ quality: 60 }).toBuffer(),
    'webp q50': await sharp(image).webp({ quality: 50 }).toBuffer(),
    'resized 50% webp': await sharp(image).resize(784).webp().toBuffer(),
    'resized 25% jpeg': await sharp(image).resize(392).jpeg().toBuffer(),
  };
  for (const [name, copy] of Object.entries(copies)) {
    console.log(`distance to ${name}: ${hammingDistance(hash, await PerceptualHash.of(copy))}`);
  }
  const distinct: string[] = [];
  for (let seed = 0; seed < 300; seed++) distinct.push(await PerceptualHash.of(await distinctScene(seed)));
  let pairs = 0;
  let within6 = 0;
  let minimum = 64;
  for (let i = 0; i < distinct.length; i++) {
    for (let j = i + 1; j < distinct.length; j++) {
      const distance = hammingDistance(distinct[i], distinct[j]);
      pairs++;
      if (distance <= 6) within6++;
      minimum = Math.min(minimum, distance);
    }
  }
  console.log(
    `distinct images: ${distinct.length}, pairs ${pairs}, within 6 bits ${within6}, smallest distance ${minimum}`,
  );
}

/**
 * Where the CPU of objects + OCR goes: VisionService prepares the inputs as in the app, and a
 * stand-in for the pool runs each model on this thread, timing it (process CPU: nothing else runs).
 */
async function cpuPerModel(image: Buffer): Promise<void> {
  const [detector, reader] = await Promise.all([ObjectDetector.load(), TextReader.load()]);
  const spent = { objects: [] as number[], text: [] as number[] };
  const timed = async (into: number[], work: () => Promise<unknown>) => {
    const before = process.cpuUsage();
    await work();
    const { user, system } = process.cpuUsage(before);
    into.push((user + system) / 1000);
  };
  const inThisThread = {
    run: async (task: InspectTask) => {
      const { sourceWidth: width, sourceHeight: height } = task;
      await timed(spent.objects, () => detector.detect(task.objects!, width, height));
      await timed(spent.text, () => reader.read(task.text!, task.textDetection ?? task.text!, width, height));
      return {};
    },
  } as unknown as VisionPool;
  const service = new VisionService(inThisThread);
  await service.inspect(image, { objects: true, text: true }); // warm-up
  spent.objects.length = spent.text.length = 0;
  for (let run = 0; run < RUNS; run++) await service.inspect(image, { objects: true, text: true });
  for (const [model, cpu] of Object.entries(spent)) {
    console.log(
      `CPU of ${model} alone, ${RUNS} runs on this thread: p50 ${Math.round(percentile(cpu, 50))} ms, p95 ${Math.round(percentile(cpu, 95))} ms`,
    );
  }
}

/** Shapes and text on gradients: many kinds of distinct synthetic image. */
async function distinctScene(seed: number): Promise<Buffer> {
  let state = seed * 7919 + 13;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const colour = () => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  const shapes = Array.from({ length: 3 + Math.floor(random() * 6) }, () => {
    const x = Math.floor(random() * 640);
    const y = Math.floor(random() * 480);
    const size = 30 + Math.floor(random() * 250);
    return random() < 0.5
      ? `<circle cx="${x}" cy="${y}" r="${size / 2}" fill="${colour()}"/>`
      : `<rect x="${x}" y="${y}" width="${size}" height="${size / 2}" fill="${colour()}"/>`;
  }).join('');
  const words = random() < 0.3 ? `<text x="20" y="440" font-size="48" fill="${colour()}">Item ${seed}</text>` : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><defs><linearGradient id="g" x1="0" y1="0" x2="${random()}" y2="1"><stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>${shapes}${words}</svg>`;
  return sharp(Buffer.from(svg)).jpeg().toBuffer();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
