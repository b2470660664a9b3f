import { readFile } from 'node:fs/promises';
import type { InferenceSession as Session, Tensor as OrtTensor } from 'onnxruntime-node';
import { MODEL_FILES } from './model-files';
import { boundingBox, decodeCtc, findTextRegions, groupIntoLines, unclip } from './text-layout';
import type { Box, RecognisedText, RgbImage } from './vision.types';

/** The image the recogniser crops words from: long edge at most this, both sides multiples of 32. */
export const OCR_MAX_EDGE = 960;
/**
 * The text detector's input: the same image with its long edge at most this, sides multiples of
 * 32. Detection at 736 px finds the lines 960 px finds down to 12 px text in a 1568 px image (at
 * 10–11 px it misses words 960 px found), in about half the CPU and memory; reading the words from
 * 736 px pixels lost letters ("PAID" read "PAD"), so the recogniser keeps the 960 px image
 * (docs/performance.md, bench:vision).
 */
export const DETECTOR_MAX_EDGE = 736;
const RECOGNISER_HEIGHT = 48;
const RECOGNISER_MAX_WIDTH = 1280;
/** Words read with a lower mean confidence are dropped (mostly texture read as letters). */
const MIN_WORD_SCORE = 0.6;
const MAX_LINES = 50;
const DET_MEAN = [0.485, 0.456, 0.406];
const DET_STD = [0.229, 0.224, 0.225];

type Ort = typeof import('onnxruntime-node');

/**
 * PaddleOCR PP-OCRv4 (DBNet text detection, SVTR-LCNet CTC recognition) on onnxruntime-node's CPU
 * provider, one intra-op thread: word regions from the detector's probability map, each word read
 * on its own, words joined into lines. Runs inside a vision worker.
 */
export class TextReader {
  private constructor(
    private readonly ort: Ort,
    private readonly detector: Session,
    private readonly recogniser: Session,
    private readonly alphabet: string[],
  ) {}

  static async load(): Promise<TextReader> {
    const ort = await import('onnxruntime-node');
    const options: Session.SessionOptions = {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // The memory pattern pre-plans one block per input shape and the arena keeps every such block:
      // without it bench:vision's RSS growth fell 555 → 399 MB (OCR alone at 960 px: ~110 MB less),
      // for no CPU. The arena itself stays: without it every run page-faults its buffers in again
      // (+60–90 ms CPU per image).
      enableMemPattern: false,
    };
    const files = MODEL_FILES.paddleOcr;
    const [detector, recogniser, dictionary] = await Promise.all([
      ort.InferenceSession.create(files.detection, options),
      ort.InferenceSession.create(files.recognition, options),
      readFile(files.dictionary, 'utf8'),
    ]);
    // PaddleOCR's dictionary, one character a line, plus the space it appends.
    const alphabet = [
      ...dictionary
        .replace(/\r/g, '')
        .split('\n')
        .filter((line) => line !== ''),
      ' ',
    ];
    return new TextReader(ort, detector, recogniser, alphabet);
  }

  /**
   * `image` is the recogniser's input and `detection` the same picture at the detector's size (or
   * `image` itself); boxes come back in the pixels of a `width` × `height` image.
   */
  async read(image: RgbImage, detection: RgbImage, width: number, height: number): Promise<RecognisedText[]> {
    const probability = await this.detect(detection);
    const mx = image.width / detection.width;
    const my = image.height / detection.height;
    const words: Array<Box & { text: string; score: number }> = [];
    for (const region of findTextRegions(probability, detection.width, detection.height)) {
      const grown = unclip(region, detection.width, detection.height);
      const scaled = { x: grown.x * mx, y: grown.y * my, width: grown.width * mx, height: grown.height * my };
      const box = widen(scaled, image.width);
      const { text, score } = await this.recognise(image, box);
      if (text !== '' && score >= MIN_WORD_SCORE) words.push({ ...box, text, score });
    }
    const sx = width / image.width;
    const sy = height / image.height;
    return groupIntoLines(words)
      .slice(0, MAX_LINES)
      .map((line) => {
        const box = boundingBox(line);
        return {
          text: line.map((word) => word.text).join(' '),
          score: Math.round((line.reduce((sum, word) => sum + word.score, 0) / line.length) * 1000) / 1000,
          box: {
            x: Math.round(box.x * sx),
            y: Math.round(box.y * sy),
            width: Math.round(box.width * sx),
            height: Math.round(box.height * sy),
          },
        };
      });
  }

  private async detect(image: RgbImage): Promise<Float32Array> {
    const plane = image.width * image.height;
    const input = new Float32Array(3 * plane);
    // PaddleOCR's models were trained on OpenCV's BGR order.
    for (let pixel = 0; pixel < plane; pixel++) {
      for (let channel = 0; channel < 3; channel++) {
        const value = image.data[pixel * 3 + (2 - channel)] / 255;
        input[channel * plane + pixel] = (value - DET_MEAN[channel]) / DET_STD[channel];
      }
    }
    const output = await this.run(this.detector, input, [1, 3, image.height, image.width]);
    return output.data as Float32Array;
  }

  private async recognise(image: RgbImage, box: Box): Promise<{ text: string; score: number }> {
    const height = RECOGNISER_HEIGHT;
    const width = Math.max(8, Math.min(RECOGNISER_MAX_WIDTH, Math.round((box.width * height) / box.height)));
    const input = cropResizeBgr(image, box, width, height);
    const output = await this.run(this.recogniser, input, [1, 3, height, width]);
    const [, steps, classes] = output.dims;
    return decodeCtc(output.data as Float32Array, steps, classes, this.alphabet);
  }

  private async run(session: Session, data: Float32Array, dims: number[]): Promise<OrtTensor> {
    const outputs = await session.run({ [session.inputNames[0]]: new this.ort.Tensor('float32', data, dims) });
    return outputs[session.outputNames[0]];
  }
}

/** A little margin left and right: the recogniser misses a thin first or last letter (an `I`) at the crop's edge. */
function widen(box: Box, width: number): Box {
  const margin = box.height * 0.25;
  const x0 = Math.max(0, box.x - margin);
  const x1 = Math.min(width, box.x + box.width + margin);
  return { ...box, x: x0, width: x1 - x0 };
}

/** Long edge at most `maxEdge` (never enlarged), both sides multiples of 32. */
export function fitWithin(width: number, height: number, maxEdge: number): [number, number] {
  const scale = Math.min(1, maxEdge / Math.max(width, height, 1));
  const snap = (side: number) => Math.max(32, Math.round((side * scale) / 32) * 32);
  return [snap(width), snap(height)];
}

/** Bilinear crop-and-resize of `box` to `width` × `height`, as planar BGR scaled to −1…1. */
function cropResizeBgr(image: RgbImage, box: Box, width: number, height: number): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  const { data, width: iw, height: ih } = image;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(ih - 1, Math.max(0, box.y + ((y + 0.5) * box.height) / height - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(ih - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(iw - 1, Math.max(0, box.x + ((x + 0.5) * box.width) / width - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(iw - 1, x0 + 1);
      const fx = sx - x0;
      for (let channel = 0; channel < 3; channel++) {
        const c = 2 - channel;
        const top = data[(y0 * iw + x0) * 3 + c] * (1 - fx) + data[(y0 * iw + x1) * 3 + c] * fx;
        const bottom = data[(y1 * iw + x0) * 3 + c] * (1 - fx) + data[(y1 * iw + x1) * 3 + c] * fx;
        out[channel * plane + y * width + x] = (top * (1 - fy) + bottom * fy) / 127.5 - 1;
      }
    }
  }
  return out;
}
