import sharp from 'sharp';

export interface LocalAnalysis {
  summary: string;
  tags: string[];
  details: Record<string, unknown>;
}

export type ColourName =
  'black' | 'white' | 'grey' | 'red' | 'orange' | 'brown' | 'yellow' | 'green' | 'cyan' | 'blue' | 'purple' | 'pink';

export interface DominantColour {
  name: ColourName;
  /** Mean of the pixels that carry this name, `#rrggbb`. */
  hex: string;
  /** Percent of the visible pixels, 0–100. */
  share: number;
}

type Orientation = 'landscape' | 'portrait' | 'square';
type BrightnessLabel = 'dark' | 'dim' | 'medium' | 'bright';
type ContrastLabel = 'low' | 'normal' | 'high';
type SharpnessLabel = 'uniform' | 'blurry' | 'soft' | 'sharp';
type ColourfulnessLabel = 'none' | 'muted' | 'moderate' | 'colourful' | 'vivid';

export type Pixel = readonly [r: number, g: number, b: number];

interface Rgba {
  data: Buffer;
  pixels: number;
}

interface ToneStats {
  /** Mean CIE L*, 0–1. */
  brightness: number;
  /** Standard deviation of CIE L*, 0–1. */
  contrast: number;
}

interface Transparency {
  hasAlpha: boolean;
  /** Fraction of pixels that are mostly see-through (alpha < 50 %), 0–1. */
  transparentShare: number;
}

/** Colours, tone and transparency are global properties: a thumbnail measures them well and fast. */
const THUMBNAIL_EDGE = 128;
/** Sharpness depends on scale, so it is measured at one fixed size for every image. */
const DETAIL_EDGE = 512;
const VISIBLE_ALPHA = 128;
const MAX_COLOURS = 5;
const MIN_COLOUR_SHARE = 2;
const LAPLACIAN = { width: 3, height: 3, kernel: [0, 1, 0, 1, -4, 1, 0, 1, 0] };

const COMMON_RATIOS: ReadonlyArray<readonly [number, number]> = [
  [1, 1],
  [5, 4],
  [4, 3],
  [3, 2],
  [16, 10],
  [16, 9],
  [2, 1],
  [21, 9],
];

/**
 * A deterministic description of an image computed from its pixels alone, for running without an
 * AI provider. The prompt is never interpreted (nor echoed): the details only record that one was
 * given and ignored.
 */
export async function analyseLocally(image: Buffer, prompt?: string): Promise<LocalAnalysis> {
  const measured = await measure(image);
  const details = detailsOf(measured);
  if (prompt !== undefined && prompt.trim() !== '') {
    details.promptIgnored = true;
  }
  return { summary: summarise(measured), tags: tagsFor(measured), details };
}

/** Everything the description is built from; numbers are rounded so results compare exactly. */
interface Measurements {
  width: number;
  height: number;
  orientation: Orientation;
  colours: DominantColour[];
  visiblePixels: number;
  tone: ToneStats;
  brightness: BrightnessLabel;
  contrast: ContrastLabel;
  laplacianVariance: number;
  sharpness: SharpnessLabel;
  colourfulness: number;
  colourfulnessLevel: ColourfulnessLabel;
  greyscale: boolean;
  transparency: Transparency;
}

async function measure(image: Buffer): Promise<Measurements> {
  const [{ width, height, hasAlpha }, thumbnail, laplacianVariance] = await Promise.all([
    sharp(image).metadata(),
    readThumbnail(image),
    measureSharpness(image),
  ]);
  const visible = visiblePixels(thumbnail);
  const tone = measureTone(visible);
  const colourfulness = measureColourfulness(visible);
  const greyscale = isGreyscale(visible);
  return {
    width,
    height,
    orientation: orientationOf(width, height),
    colours: dominantColours(visible),
    visiblePixels: visible.length,
    tone: { brightness: round(tone.brightness), contrast: round(tone.contrast) },
    brightness: brightnessLabel(tone.brightness),
    contrast: contrastLabel(tone.contrast),
    laplacianVariance: round(laplacianVariance, 1),
    sharpness: sharpnessLabel(laplacianVariance, tone.contrast),
    colourfulness: round(colourfulness, 1),
    colourfulnessLevel: colourfulnessLabel(colourfulness, greyscale),
    greyscale,
    transparency: { hasAlpha, transparentShare: round(transparentShare(thumbnail)) },
  };
}

function detailsOf(measured: Measurements): Record<string, unknown> {
  const { width, height } = measured;
  return {
    width,
    height,
    megapixels: round((width * height) / 1e6, 2),
    orientation: measured.orientation,
    aspectRatio: { value: round(width / height), label: aspectRatioLabel(width, height) },
    colours: measured.colours,
    brightness: { value: measured.tone.brightness, label: measured.brightness },
    contrast: { value: measured.tone.contrast, label: measured.contrast },
    sharpness: { laplacianVariance: measured.laplacianVariance, label: measured.sharpness },
    colourfulness: { value: measured.colourfulness, label: measured.colourfulnessLevel },
    greyscale: measured.greyscale,
    transparency: measured.transparency,
  };
}

async function readThumbnail(image: Buffer): Promise<Rgba> {
  const { data, info } = await sharp(image)
    .resize({ width: THUMBNAIL_EDGE, height: THUMBNAIL_EDGE, fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, pixels: info.width * info.height };
}

/** Variance of the Laplacian of the luminance (0–255 scale): high for crisp edges, low for blur. */
async function measureSharpness(image: Buffer): Promise<number> {
  const { data } = await sharp(image)
    .flatten({ background: '#808080' })
    .greyscale()
    .resize({ width: DETAIL_EDGE, height: DETAIL_EDGE, fit: 'inside', withoutEnlargement: true })
    .convolve(LAPLACIAN)
    // float output: the Laplacian is signed and would be clipped to 0–255 as uchar
    .raw({ depth: 'float' })
    .toBuffer({ resolveWithObject: true });
  const values = new Float32Array(data.buffer, data.byteOffset, data.length / Float32Array.BYTES_PER_ELEMENT);
  return variance(values);
}

function transparentShare({ data, pixels }: Rgba): number {
  let transparent = 0;
  for (let offset = 3; offset < data.length; offset += 4) {
    if (data[offset] < VISIBLE_ALPHA) transparent++;
  }
  return pixels === 0 ? 0 : transparent / pixels;
}

function visiblePixels({ data }: Rgba): Pixel[] {
  const visible: Pixel[] = [];
  for (let offset = 0; offset < data.length; offset += 4) {
    if (data[offset + 3] >= VISIBLE_ALPHA) visible.push([data[offset], data[offset + 1], data[offset + 2]]);
  }
  return visible;
}

// sRGB (0–255) → CIE L* (0–1), as a lookup table since it only depends on the channel values
const LINEAR = Array.from({ length: 256 }, (_, value) => {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

function lightness([r, g, b]: Pixel): number {
  const y = 0.2126 * LINEAR[r] + 0.7152 * LINEAR[g] + 0.0722 * LINEAR[b];
  const f = y > 216 / 24389 ? Math.cbrt(y) : ((24389 / 27) * y) / 116 + 16 / 116;
  return (116 * f - 16) / 100;
}

function measureTone(pixels: Pixel[]): ToneStats {
  const values = pixels.map(lightness);
  return { brightness: mean(values), contrast: Math.sqrt(variance(values)) };
}

/** Hasler & Süsstrunk (2003): 0 for grey, about 15 slightly, 33 moderately, 59 quite, 82+ very colourful. */
function measureColourfulness(pixels: Pixel[]): number {
  const rg = pixels.map(([r, g]) => r - g);
  const yb = pixels.map(([r, g, b]) => (r + g) / 2 - b);
  const spread = Math.sqrt(variance(rg) + variance(yb));
  const offset = Math.sqrt(mean(rg) ** 2 + mean(yb) ** 2);
  return spread + 0.3 * offset;
}

/** Tolerates the chroma noise of JPEG compression; more than 1 % clearly coloured pixels is colour. */
function isGreyscale(pixels: Pixel[]): boolean {
  const coloured = pixels.filter(([r, g, b]) => Math.max(r, g, b) - Math.min(r, g, b) > 16).length;
  return pixels.length > 0 && coloured / pixels.length < 0.01;
}

function dominantColours(pixels: Pixel[]): DominantColour[] {
  const groups = new Map<ColourName, { count: number; sum: [number, number, number] }>();
  for (const pixel of pixels) {
    const name = nameColour(pixel);
    const group = groups.get(name) ?? { count: 0, sum: [0, 0, 0] };
    group.count++;
    group.sum[0] += pixel[0];
    group.sum[1] += pixel[1];
    group.sum[2] += pixel[2];
    groups.set(name, group);
  }
  return [...groups.entries()]
    .map(([name, { count, sum }]) => ({
      name,
      hex: toHex(sum.map((total) => total / count)),
      share: round((100 * count) / pixels.length, 1),
    }))
    .filter(({ share }) => share >= MIN_COLOUR_SHARE)
    .sort((a, b) => b.share - a.share || a.name.localeCompare(b.name))
    .slice(0, MAX_COLOURS);
}

/** Basic colour terms from hue, lightness and chroma (HSL); greys first, then hue sectors. */
export function nameColour([r, g, b]: Pixel): ColourName {
  const max = Math.max(r, g, b) / 255;
  const min = Math.min(r, g, b) / 255;
  const light = (max + min) / 2;
  const chroma = max - min;
  if (chroma < 0.12) return light < 0.2 ? 'black' : light > 0.85 ? 'white' : 'grey';
  if (light < 0.1) return 'black';
  if (light > 0.94) return 'white';

  const hue = hueOf(r, g, b);
  if (hue < 15 || hue >= 340) return light > 0.75 ? 'pink' : max < 0.45 ? 'brown' : 'red';
  if (hue < 45) return max < 0.6 ? 'brown' : 'orange';
  if (hue < 70) return max < 0.5 ? 'green' : 'yellow';
  if (hue < 165) return 'green';
  if (hue < 195) return 'cyan';
  if (hue < 255) return 'blue';
  if (hue < 290) return 'purple';
  return max < 0.7 ? 'purple' : 'pink';
}

function hueOf(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b);
  const chroma = max - Math.min(r, g, b);
  const sector = max === r ? ((g - b) / chroma) % 6 : max === g ? (b - r) / chroma + 2 : (r - g) / chroma + 4;
  return (sector * 60 + 360) % 360;
}

function orientationOf(width: number, height: number): Orientation {
  if (Math.abs(width - height) <= 0.03 * Math.max(width, height)) return 'square';
  return width > height ? 'landscape' : 'portrait';
}

function aspectRatioLabel(width: number, height: number): string {
  const ratio = Math.max(width, height) / Math.min(width, height);
  const common = COMMON_RATIOS.find(([long, short]) => Math.abs(ratio / (long / short) - 1) <= 0.02);
  if (!common) return width >= height ? `${ratio.toFixed(2)}:1` : `1:${ratio.toFixed(2)}`;
  const [long, short] = common;
  return width >= height ? `${long}:${short}` : `${short}:${long}`;
}

function brightnessLabel(brightness: number): BrightnessLabel {
  if (brightness < 0.2) return 'dark';
  if (brightness < 0.4) return 'dim';
  if (brightness < 0.7) return 'medium';
  return 'bright';
}

function contrastLabel(contrast: number): ContrastLabel {
  if (contrast < 0.08) return 'low';
  return contrast > 0.3 ? 'high' : 'normal';
}

/** A flat image has no edges to judge: calling it blurry would be wrong. */
function sharpnessLabel(laplacianVariance: number, contrast: number): SharpnessLabel {
  if (contrast < 0.02) return 'uniform';
  if (laplacianVariance < 50) return 'blurry';
  return laplacianVariance < 250 ? 'soft' : 'sharp';
}

function colourfulnessLabel(colourfulness: number, greyscale: boolean): ColourfulnessLabel {
  if (greyscale) return 'none';
  if (colourfulness < 15) return 'muted';
  if (colourfulness < 59) return 'moderate';
  return colourfulness < 82 ? 'colourful' : 'vivid';
}

/** One sentence, e.g. "A bright, sharp landscape image dominated by blue and white." */
function summarise(measured: Measurements): string {
  const { orientation, colours, transparency } = measured;
  if (measured.visiblePixels === 0) return `A fully transparent ${orientation} image.`;

  const adjectives = [
    measured.brightness === 'medium' ? undefined : measured.brightness,
    measured.sharpness,
    measured.greyscale ? 'greyscale' : undefined,
  ].filter(isDefined);
  const main = colours.filter(({ share }) => share >= 20).slice(0, 2);
  const colourPhrase =
    main.length > 0
      ? ` dominated by ${joinWords(main.map(({ name }) => name))}`
      : colours.length > 0
        ? ` with a mix of ${joinWords(colours.slice(0, 3).map(({ name }) => name))}`
        : '';
  const transparentPercent = Math.max(1, Math.round(transparency.transparentShare * 100));
  const transparencyPhrase = transparency.transparentShare > 0 ? `, ${transparentPercent}% of it transparent` : '';
  const subject = [adjectives.join(', '), orientation, 'image'].filter((part) => part !== '').join(' ');
  return `A ${subject}${colourPhrase}${transparencyPhrase}.`;
}

function tagsFor(measured: Measurements): string[] {
  if (measured.visiblePixels === 0) return [measured.orientation, 'transparent'];

  const colourful = measured.colourfulnessLevel === 'colourful' || measured.colourfulnessLevel === 'vivid';
  const tags = [
    measured.orientation,
    measured.brightness === 'medium' ? undefined : measured.brightness,
    measured.sharpness,
    measured.contrast === 'normal' ? undefined : `${measured.contrast}-contrast`,
    measured.greyscale ? 'greyscale' : undefined,
    colourful ? 'colourful' : undefined,
    ...measured.colours.filter(({ share }) => share >= 10).map(({ name }) => name),
    measured.transparency.transparentShare > 0 ? 'transparent' : undefined,
  ];
  return [...new Set(tags.filter(isDefined))];
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function toHex(rgb: number[]): string {
  return `#${rgb.map((value) => Math.round(value).toString(16).padStart(2, '0')).join('')}`;
}

function mean(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (let index = 0; index < values.length; index++) sum += values[index];
  return sum / values.length;
}

function variance(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  const average = mean(values);
  let sum = 0;
  for (let index = 0; index < values.length; index++) sum += (values[index] - average) ** 2;
  return sum / values.length;
}

function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
