/** A rectangle in the pixels of the image that was analysed (its top-left corner, then its size). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One thing the object detector found (a COCO class name, e.g. `person`, `stop sign`). */
export interface DetectedObject {
  label: string;
  /** Detector confidence, 0–1. */
  score: number;
  box: Box;
}

/** One line of printed text the OCR read. */
export interface RecognisedText {
  text: string;
  /** Mean recogniser confidence of the line's characters, 0–1. */
  score: number;
  box: Box;
}

/** The safety classifier's five classes (NSFW MobileNetV2), each 0–1, summing to about 1. */
export interface SafetyScores {
  drawing: number;
  hentai: number;
  neutral: number;
  porn: number;
  sexy: number;
}

/** What to look for; leaving parts out saves their CPU time (and their model's memory). */
export interface InspectOptions {
  objects?: boolean;
  text?: boolean;
  safety?: boolean;
}

export interface VisionFindings {
  objects?: DetectedObject[];
  text?: RecognisedText[];
  safety?: SafetyScores;
}

/** Raw RGB pixels (3 bytes per pixel, row-major), as the worker receives them. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** One unit of work for a vision worker: the inputs prepared for each model that should run. */
export interface InspectTask {
  /** 512 × 512, stretched; `sourceWidth`/`sourceHeight` map boxes back to the analysed image. */
  objects?: RgbImage;
  /** Long edge ≤ the OCR input size, both sides multiples of 32: the recogniser crops words from it. */
  text?: RgbImage;
  /** The same picture for the text detector (long edge ≤ its input size); left out when it would equal `text`. */
  textDetection?: RgbImage;
  /** 224 × 224, stretched. */
  safety?: RgbImage;
  sourceWidth: number;
  sourceHeight: number;
}
