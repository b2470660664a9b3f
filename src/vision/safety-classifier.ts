import type { io } from '@tensorflow/tfjs-core';
import type { NSFWJS } from 'nsfwjs';
import { MODEL_FILES } from './model-files';
import { tfjsOnWasm } from './tfjs-wasm';
import type { RgbImage, SafetyScores } from './vision.types';

export const SAFETY_INPUT_SIZE = 224;

const CLASS_KEYS: Record<string, keyof SafetyScores> = {
  Drawing: 'drawing',
  Hentai: 'hentai',
  Neutral: 'neutral',
  Porn: 'porn',
  Sexy: 'sexy',
};

/**
 * The NSFW classifier of `nsfwjs` (MobileNetV2, 224 px, weights shipped inside the package) on the
 * TensorFlow.js WASM backend; src/analysis/moderation turns its five classes into categories.
 */
export class SafetyClassifier {
  private constructor(private readonly model: NSFWJS) {}

  /**
   * nsfwjs's own `load('MobileNetV2')` imports the weights module (one 3.5 MB base64 string)
   * through TypeScript's `__importStar`, which defines a property per character: 4.7 s of CPU and
   * ~170 MB of RSS here (bench:vision). The same two files are read here and handed to NSFWJS as
   * an IOHandler: ~0.3 s. nsfwjs needs the full @tensorflow/tfjs (layers) beside tfjs-core.
   */
  static async load(): Promise<SafetyClassifier> {
    await tfjsOnWasm();
    const { NSFWJS } = await import('nsfwjs');
    const model = new NSFWJS(mobileNetV2Weights(), { size: SAFETY_INPUT_SIZE, type: 'layers' });
    await quietly(() => model.load());
    return new SafetyClassifier(model);
  }

  async classify(image: RgbImage): Promise<SafetyScores> {
    const tf = await tfjsOnWasm();
    const input = tf.tensor3d(Int32Array.from(image.data), [image.height, image.width, 3], 'int32');
    try {
      const predictions = await this.model.classify(input as never, 5);
      const scores: SafetyScores = { drawing: 0, hentai: 0, neutral: 0, porn: 0, sexy: 0 };
      for (const { className, probability } of predictions) {
        const key = CLASS_KEYS[className];
        if (key) scores[key] = Math.round(probability * 1000) / 1000;
      }
      return scores;
    } finally {
      input.dispose();
    }
  }
}

interface LayersModelJson {
  modelTopology: object;
  weightsManifest: Array<{ weights: io.WeightsManifestEntry[] }>;
}

/** The MobileNetV2 model and weights that ship in nsfwjs (JS modules: a JSON object and a base64 string). */
function mobileNetV2Weights(): io.IOHandler {
  return {
    load: () => {
      /* eslint-disable @typescript-eslint/no-require-imports -- the package ships its model as CommonJS modules */
      const json = require(MODEL_FILES.nsfwMobileNetV2.model) as LayersModelJson;
      const weights = Buffer.from(require(MODEL_FILES.nsfwMobileNetV2.weights) as string, 'base64');
      /* eslint-enable @typescript-eslint/no-require-imports */
      return Promise.resolve({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      });
    },
  };
}

/** nsfwjs prints a hosting hint on load; a worker's console would write it to the service's stdout. */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  /* eslint-disable no-console -- silencing a library's console, not writing to it */
  const { info, log } = console;
  console.info = () => undefined;
  console.log = () => undefined;
  try {
    return await load();
  } finally {
    console.info = info;
    console.log = log;
  }
  /* eslint-enable no-console */
}
