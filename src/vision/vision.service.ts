import { Injectable, OnModuleDestroy } from '@nestjs/common';
import sharp from 'sharp';
import { DETECTOR_INPUT_SIZE } from './object-detector';
import { SAFETY_INPUT_SIZE } from './safety-classifier';
import { DETECTOR_MAX_EDGE, fitWithin, OCR_MAX_EDGE } from './text-reader';
import { VisionPool } from './vision-pool';
import type { InspectOptions, InspectTask, RgbImage, VisionFindings } from './vision.types';

/**
 * What the local models see in an image (docs/api.md, "What the local provider finds"): COCO
 * objects, printed text and safety scores. The inputs are prepared with sharp (libuv's pool), the
 * models run in a worker pool (src/vision/vision-pool.ts); the event loop only copies buffers.
 */
@Injectable()
export class VisionService implements OnModuleDestroy {
  constructor(private readonly pool: VisionPool) {}

  /** `image` is an encoded image (the normalised upload); boxes are in its pixels. */
  async inspect(image: Buffer, options: InspectOptions): Promise<VisionFindings> {
    const decoded = await decode(image);
    const { width, height } = decoded;
    const [ocrWidth, ocrHeight] = ocrSize(width, height);
    const [detectionWidth, detectionHeight] = fitWithin(width, height, DETECTOR_MAX_EDGE);
    // The text detector's smaller input is resized from the decoded upload, not from the OCR image:
    // a second resize blurred small text away (docs/performance.md, bench:vision).
    const detectionDiffers = options.text && (detectionWidth !== ocrWidth || detectionHeight !== ocrHeight);
    const [objects, text, textDetection, safety] = await Promise.all([
      options.objects ? resized(decoded, DETECTOR_INPUT_SIZE, DETECTOR_INPUT_SIZE) : undefined,
      options.text ? resized(decoded, ocrWidth, ocrHeight) : undefined,
      detectionDiffers ? resized(decoded, detectionWidth, detectionHeight) : undefined,
      options.safety ? resized(decoded, SAFETY_INPUT_SIZE, SAFETY_INPUT_SIZE) : undefined,
    ]);
    const task: InspectTask = { objects, text, textDetection, safety, sourceWidth: width, sourceHeight: height };
    return this.pool.run(task);
  }

  /** Loads these models in every vision worker now, so that no analysis waits for them later. */
  warmUp(models: InspectOptions): Promise<void> {
    return this.pool.warm(models);
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.close();
  }
}

/** The OCR input: long edge ≤ OCR_MAX_EDGE (never enlarged), sides multiples of 32. */
export function ocrSize(width: number, height: number): [number, number] {
  return fitWithin(width, height, OCR_MAX_EDGE);
}

/**
 * The upload decoded once to sRGB pixels (transparency on white): every model input is resized
 * from these, which saved ~20 ms of CPU per image in bench:vision against a decode per input.
 */
async function decode(image: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(image)
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function resized(
  pixels: { data: Buffer; width: number; height: number },
  width: number,
  height: number,
): Promise<RgbImage> {
  const { data, info } = await sharp(pixels.data, { raw: { width: pixels.width, height: pixels.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // A copy with its own ArrayBuffer, so it can be transferred to the worker (not Node's buffer pool).
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}
