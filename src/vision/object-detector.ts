import { readFile } from 'node:fs/promises';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import type { io } from '@tensorflow/tfjs-core';
import { COCO_LABELS } from './coco-labels';
import { MODEL_FILES } from './model-files';
import { tfjsOnWasm } from './tfjs-wasm';
import type { DetectedObject, RgbImage } from './vision.types';

export const DETECTOR_INPUT_SIZE = 512;
/** Detections below this confidence are dropped (CenterNet's scores on clear objects are 0.5–0.9). */
const MIN_SCORE = 0.35;
const MAX_OBJECTS = 20;
/** Two boxes of one class overlapping more than this are one object. */
const MAX_IOU = 0.5;

/**
 * COCO object detection with CenterNet (MobileNetV3) as a TensorFlow.js graph model on the WASM
 * backend. Runs inside a vision worker (src/vision/vision.worker.ts), never on the event loop.
 */
export class ObjectDetector {
  private constructor(private readonly model: GraphModel) {}

  static async load(): Promise<ObjectDetector> {
    await tfjsOnWasm();
    return new ObjectDetector(
      await loadGraphModel(fileHandler(MODEL_FILES.centernet.json, MODEL_FILES.centernet.weights)),
    );
  }

  /** `image` is 512 × 512 RGB; boxes come back in the pixels of a `width` × `height` image. */
  async detect(image: RgbImage, width: number, height: number): Promise<DetectedObject[]> {
    const tf = await tfjsOnWasm();
    const input = tf.tensor4d(Float32Array.from(image.data), [1, image.height, image.width, 3], 'float32');
    let rows: number[][];
    try {
      const output = this.model.execute(input, ['tower_0/detections']) as import('@tensorflow/tfjs-core').Tensor;
      rows = ((await output.array()) as number[][][])[0];
      output.dispose();
    } finally {
      input.dispose();
    }
    const sx = width / image.width;
    const sy = height / image.height;
    const found = rows
      .filter((row) => row[4] >= MIN_SCORE && Number.isInteger(row[5]) && COCO_LABELS[row[5]] !== undefined)
      .map(([x1, y1, x2, y2, score, cls]) => ({
        label: COCO_LABELS[cls],
        score: Math.round(score * 1000) / 1000,
        box: toBox(x1 * sx, y1 * sy, x2 * sx, y2 * sy, width, height),
      }))
      .filter(({ box }) => box.width > 0 && box.height > 0)
      .sort((a, b) => b.score - a.score);
    return suppressOverlaps(found).slice(0, MAX_OBJECTS);
  }
}

/** Greedy non-maximum suppression per label, on score-sorted detections. */
export function suppressOverlaps(sorted: DetectedObject[]): DetectedObject[] {
  const kept: DetectedObject[] = [];
  for (const candidate of sorted) {
    if (!kept.some((other) => other.label === candidate.label && iou(other.box, candidate.box) > MAX_IOU)) {
      kept.push(candidate);
    }
  }
  return kept;
}

function iou(a: DetectedObject['box'], b: DetectedObject['box']): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const overlap = w * h;
  return overlap / (a.width * a.height + b.width * b.height - overlap);
}

function toBox(x1: number, y1: number, x2: number, y2: number, width: number, height: number): DetectedObject['box'] {
  const left = clamp(Math.round(x1), 0, width);
  const top = clamp(Math.round(y1), 0, height);
  return {
    x: left,
    y: top,
    width: clamp(Math.round(x2), 0, width) - left,
    height: clamp(Math.round(y2), 0, height) - top,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Reads a graph model's `model.json` and its one weights file from disk (no tfjs-node `file://`). */
function fileHandler(jsonPath: string, weightsPath: string): io.IOHandler {
  return {
    load: async () => {
      const [json, weights] = await Promise.all([readFile(jsonPath, 'utf8'), readFile(weightsPath)]);
      const artifacts = JSON.parse(json) as io.ModelJSON;
      return {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        signature: artifacts.signature,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightSpecs: artifacts.weightsManifest.flatMap((group) => group.weights),
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      };
    },
  };
}
