import type { NSFWJS } from 'nsfwjs';
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

  static async load(): Promise<SafetyClassifier> {
    await tfjsOnWasm();
    // nsfwjs needs the full @tensorflow/tfjs (layers) beside tfjs-core; loaded only when used.
    const { load } = await import('nsfwjs');
    const model = await quietly(() => load('MobileNetV2'));
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
