import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { ImageTooLargeError, imageErrorFromSharp, UnsupportedImageTypeError } from './image.errors';
import { detectImageType, IMAGE_TYPE_HEAD_BYTES, type ImageType } from './image-type';

export interface ImageProcessorOptions {
  /** Pixel budget for width × height as declared by the header; larger images are never decoded. */
  maxInputPixels: number;
  /** Longest edge of the normalised image, in pixels. */
  maxEdge: number;
  /** Normalisations allowed to run at once; later calls wait. Default: the CPU count, at most 4. */
  concurrency?: number;
}

export type NormalisedFormat = 'jpeg' | 'webp';

export interface SourceImageInfo {
  /** The type decided from the magic bytes. */
  format: ImageType;
  /** As stored, before the EXIF orientation is applied; for an animated image, one frame. */
  width: number;
  height: number;
  orientation?: number;
  hasAlpha: boolean;
  pages?: number;
}

export interface NormalisedImage {
  data: Buffer;
  format: NormalisedFormat;
  contentType: string;
  width: number;
  height: number;
  bytes: number;
  source: SourceImageInfo;
}

interface RawImage {
  data: Buffer;
  info: sharp.OutputInfo;
}

const JPEG_QUALITY = 82;
const WEBP_QUALITY = 82;
const MAX_DEFAULT_CONCURRENCY = 4;

const CONTENT_TYPES: Record<NormalisedFormat, string> = {
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

/** The libvips loader each accepted type must be read by. */
const SHARP_LOADERS: Record<ImageType, keyof sharp.FormatEnum> = {
  jpeg: 'jpeg',
  png: 'png',
  webp: 'webp',
  gif: 'gif',
  avif: 'heif',
  heic: 'heif',
};

/** Global libvips state. Called by the `ImageProcessor` constructor; safe to call again. */
export function configureSharp(threadsPerImage: number): void {
  // The operation cache would keep decoded uploads alive after the request; nothing is reused.
  sharp.cache(false);
  // Several images are processed at once, so each gets a share of the CPUs, not all of them.
  sharp.concurrency(threadsPerImage);
}

/**
 * Turns an untrusted upload into a small, metadata-free sRGB JPEG (or WebP when it has
 * transparency): type checked by magic bytes, pixel bombs refused from the header, EXIF
 * orientation applied, long edge capped. Framework-free; Nest wires it with a factory.
 */
export class ImageProcessor {
  private readonly slots: Semaphore;
  private readonly inputOptions: sharp.SharpOptions;

  constructor(private readonly options: ImageProcessorOptions) {
    const cpus = availableParallelism();
    const concurrency = options.concurrency ?? Math.min(cpus, MAX_DEFAULT_CONCURRENCY);
    assertPositiveInteger('maxInputPixels', options.maxInputPixels);
    assertPositiveInteger('maxEdge', options.maxEdge);
    assertPositiveInteger('concurrency', concurrency);

    this.slots = new Semaphore(concurrency);
    configureSharp(Math.max(1, Math.floor(cpus / concurrency)));
    this.inputOptions = {
      limitInputPixels: options.maxInputPixels,
      // 'error' refuses truncated and undecodable data; 'warning' (sharp's default) would also
      // refuse files that decode fine apart from a recoverable warning, such as a damaged JPEG scan.
      failOn: 'error',
      animated: false,
    };
  }

  async normalise(input: Buffer): Promise<NormalisedImage> {
    const type = detectImageType(input.subarray(0, IMAGE_TYPE_HEAD_BYTES));
    if (type === undefined) {
      throw new UnsupportedImageTypeError();
    }
    return this.slots.run(() => this.process(input, type));
  }

  private async process(input: Buffer, type: ImageType): Promise<NormalisedImage> {
    const metadata = await this.readMetadata(input, type);
    const pixels = await this.decode(input);
    const encoded = await encode(pixels);
    return { ...encoded, source: describeSource(type, metadata) };
  }

  /** Reads the header only: no pixel is decoded before the size check has passed. */
  private async readMetadata(input: Buffer, type: ImageType): Promise<sharp.Metadata> {
    const metadata = await this.callSharp(() => sharp(input, this.inputOptions).metadata());
    if (metadata.format !== SHARP_LOADERS[type]) {
      throw new UnsupportedImageTypeError();
    }
    if (metadata.width * metadata.height > this.options.maxInputPixels) {
      throw new ImageTooLargeError(this.options.maxInputPixels);
    }
    return metadata;
  }

  /** Decodes (first frame only), orients, shrinks and converts to 8-bit sRGB pixels. */
  private decode(input: Buffer): Promise<RawImage> {
    const { maxEdge } = this.options;
    return this.callSharp(() =>
      sharp(input, this.inputOptions)
        .autoOrient()
        .resize({ width: maxEdge, height: maxEdge, fit: 'inside', withoutEnlargement: true })
        .toColourspace('srgb')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true }),
    );
  }

  private async callSharp<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw imageErrorFromSharp(error, this.options.maxInputPixels);
    }
  }
}

/**
 * Encodes from raw pixels, so no EXIF (GPS included), XMP, IPTC or ICC of the upload can survive.
 * An alpha channel that is fully opaque (every GIF has one) is dropped and the result is a JPEG.
 */
async function encode({ data, info }: RawImage): Promise<Omit<NormalisedImage, 'source'>> {
  const transparent = hasTransparency(data, info.channels);
  const format: NormalisedFormat = transparent ? 'webp' : 'jpeg';
  const raw = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  const encoder = transparent
    ? raw.webp({ quality: WEBP_QUALITY, alphaQuality: 100 })
    : raw.removeAlpha().jpeg({ quality: JPEG_QUALITY });
  const output = await encoder.toBuffer({ resolveWithObject: true });
  return {
    data: output.data,
    format,
    contentType: CONTENT_TYPES[format],
    width: output.info.width,
    height: output.info.height,
    bytes: output.data.length,
  };
}

function hasTransparency(pixels: Buffer, channels: number): boolean {
  if (channels !== 2 && channels !== 4) return false;
  for (let alpha = channels - 1; alpha < pixels.length; alpha += channels) {
    if (pixels[alpha] !== 255) return true;
  }
  return false;
}

function describeSource(type: ImageType, metadata: sharp.Metadata): SourceImageInfo {
  return {
    format: type,
    width: metadata.width,
    height: metadata.height,
    orientation: metadata.orientation,
    hasAlpha: metadata.hasAlpha,
    pages: metadata.pages,
  };
}

function assertPositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`ImageProcessor: ${name} must be a positive integer, got ${value}`);
  }
}

/** Bounds how many decoded images are in memory at once; a released slot passes to the next waiter. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
