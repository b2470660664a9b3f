/**
 * bench:vision — the local models on one core: model load (first call), then objects + OCR per
 * 1568 px image (p50/p95 wall, CPU per run), RSS growth of the process (workers included), and the CPU
 * of each model on its own (objects, text), run on this thread from the inputs VisionService prepares.
 * Then the near-duplicate fingerprint: distances of resized/re-encoded copies; false positives among
 * distinct images (generated scenes, and tiles of the photographs installed packages ship), by the
 * hash alone and by the look-up's whole rule; and how many copies of those tiles the rule finds.
 * Run: `taskset -c 0 npm run bench:vision` (VISION_BENCH_RUNS, default 20). The script caps glibc's malloc
 * arenas at 2, as docker/Dockerfile does for the image; `MALLOC_ARENA_MAX= npm run bench:vision` measures
 * glibc's default (8 arenas per core: ~40–60 MB more RSS growth here, the same CPU).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { configureSharp } from '../src/analysis/image-processor';
import { buildConfig } from '../src/config/configuration';
import {
  fingerprintOf,
  ImageFingerprint,
  nearDuplicateDistance,
} from '../src/analysis/near-duplicate/image-fingerprint';
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
  const copies = { ...COPIES, '25 % JPEG': resized(0.25, (copy) => copy.jpeg()) };
  for (const [name, copy] of Object.entries(copies)) {
    console.log(`distance to ${name}: ${hammingDistance(hash, await PerceptualHash.of(await copy(image)))}`);
  }
  const synthetic: ImageFingerprint[] = [];
  for (let seed = 0; seed < 300; seed++) synthetic.push(await fingerprintOf(await distinctScene(seed)));
  const natural = await naturalTiles();
  const photos: ImageFingerprint[] = [];
  for (const tile of natural.tiles) photos.push(await fingerprintOf(tile));
  console.log(
    `photographs: ${photos.length} tiles of ${natural.sources} photos that ship in installed packages ` +
      `(${natural.skipped} near-uniform tiles skipped)`,
  );
  reportDistinct('distinct generated images', allPairs(synthetic));
  reportDistinct('distinct photograph tiles', allPairs(photos));
  reportDistinct('photograph tile × generated image', crossPairs(photos, synthetic));
  // Copies of each photograph tile: found by the same rule (true positives).
  for (const [name, copy] of Object.entries(COPIES)) {
    let found = 0;
    for (let i = 0; i < natural.tiles.length; i++) {
      if (nearDuplicate(photos[i], await fingerprintOf(await copy(natural.tiles[i])))) found++;
    }
    console.log(`photograph tiles whose ${name} copy is found: ${found} of ${natural.tiles.length}`);
  }
}

/** NEAR_DUPLICATE_MAX_DISTANCE as the app reads it (its default unless the variable is set). */
const MAX_DISTANCE = buildConfig(process.env).nearDuplicate.maxDistance;

/** Whether the near-duplicate look-up would answer `a` from `b` (the rule NearDuplicateIndex applies). */
function nearDuplicate(a: ImageFingerprint, b: ImageFingerprint): boolean {
  return nearDuplicateDistance(a, b, MAX_DISTANCE) !== null;
}

type Pair = [ImageFingerprint, ImageFingerprint];

function allPairs(set: ImageFingerprint[]): Pair[] {
  const pairs: Pair[] = [];
  for (let i = 0; i < set.length; i++) for (let j = i + 1; j < set.length; j++) pairs.push([set[i], set[j]]);
  return pairs;
}

function crossPairs(left: ImageFingerprint[], right: ImageFingerprint[]): Pair[] {
  return left.flatMap((a) => right.map((b): Pair => [a, b]));
}

/** False positives among distinct images: by the hash alone, and by the whole rule (hash and colour). */
function reportDistinct(name: string, pairs: Pair[]): void {
  let withinHash = 0;
  let matched = 0;
  let smallest = 64;
  for (const [a, b] of pairs) {
    const distance = hammingDistance(a.phash, b.phash);
    smallest = Math.min(smallest, distance);
    if (distance <= MAX_DISTANCE) withinHash++;
    if (nearDuplicate(a, b)) matched++;
  }
  console.log(
    `${name}: ${pairs.length} pairs, within ${MAX_DISTANCE} bits ${withinHash}, answered as near-duplicates ` +
      `${matched} (${((100 * matched) / pairs.length).toFixed(3)} %), smallest distance ${smallest}`,
  );
}

type Copy = (image: Buffer) => Promise<Buffer>;

/** A copy `fraction` of the image's width, encoded by `encode`. */
function resized(fraction: number, encode: (copy: sharp.Sharp) => sharp.Sharp): Copy {
  return async (image) => {
    const { width } = await sharp(image).metadata();
    return encode(sharp(image).resize(Math.round(width! * fraction))).toBuffer();
  };
}

/** The copies a near-duplicate must be found from (docs/api.md, "Near-duplicates"). */
const COPIES: Record<string, Copy> = {
  'JPEG q60': (image) => sharp(image).jpeg({ quality: 60 }).toBuffer(),
  'WebP q50': (image) => sharp(image).webp({ quality: 50 }).toBuffer(),
  '50 % WebP': resized(0.5, (copy) => copy.webp()),
};

/**
 * Natural images: the photographs that ship in installed packages (@vladmandic/human's sample
 * screenshots — faces, people, rooms — and autocannon's test photo), cut into non-overlapping
 * square tiles, each a distinct picture. Tiles with almost no detail (the screenshots' black
 * margins) are skipped: two of them are the same picture.
 */
async function naturalTiles(): Promise<{ tiles: Buffer[]; sources: number; skipped: number }> {
  const sources: Array<[file: string, tile: number]> = [
    ['@vladmandic/human/assets/screenshot-facematch.jpg', 112],
    ['@vladmandic/human/assets/samples.jpg', 160],
    ['@vladmandic/human/assets/screenshot-facedetect.jpg', 160],
    ['@vladmandic/human/assets/screenshot-faceid.jpg', 160],
    ['@vladmandic/human/assets/screenshot-vrm.jpg', 160],
    ['autocannon/test/j5.jpeg', 146],
  ];
  const tiles: Buffer[] = [];
  let found = 0;
  let skipped = 0;
  for (const [file, size] of sources) {
    const path = join(__dirname, '..', 'node_modules', file);
    if (!existsSync(path)) {
      console.log(`photograph missing, left out: ${file}`);
      continue;
    }
    found++;
    // Decoded once; every tile is cut from these pixels.
    const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
    for (let top = 0; top + size <= info.height; top += size) {
      for (let left = 0; left + size <= info.width; left += size) {
        const tile = await sharp(data, raw).extract({ left, top, width: size, height: size }).png().toBuffer();
        const { channels } = await sharp(tile).stats();
        const detail = channels.slice(0, 3).reduce((sum, channel) => sum + channel.stdev, 0) / 3;
        if (detail < 25) skipped++;
        else tiles.push(tile);
      }
    }
  }
  return { tiles, sources: found, skipped };
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
