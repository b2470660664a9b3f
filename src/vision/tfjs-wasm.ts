import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { MODEL_FILES } from './model-files';

let ready: Promise<typeof tf> | undefined;

/**
 * TensorFlow.js on its WASM backend, set up once per thread: `@tensorflow/tfjs-node` downloads a
 * native library at install, so the WASM binary that ships in the npm package is used instead.
 */
export function tfjsOnWasm(): Promise<typeof tf> {
  ready ??= (async () => {
    setWasmPaths(MODEL_FILES.tfjsWasmDir);
    await tf.setBackend('wasm');
    await tf.ready();
    return tf;
  })();
  return ready;
}
