import type { VisionService } from '../../vision/vision.service';
import type { DetectedObject, RecognisedText } from '../../vision/vision.types';
import { ZERO_USAGE } from '../analysis.types';
import { analyseLocally } from './local-vision.analyzer';
import { VisionAnswer, VisionProvider, VisionRequest } from './vision-provider';

export const LOCAL_PROVIDER = 'local';
/** Bump when the models, the measurements or the wording change: it is part of the cache key. */
export const LOCAL_MODEL = 'local-vision-v2';

/**
 * The embedded default, free and offline (docs/api.md, "What the local provider finds"): COCO
 * objects (CenterNet) and printed text (PaddleOCR) from src/vision, colours and pixel statistics
 * from sharp, and a summary and tags written from those findings.
 */
export class LocalVisionProvider implements VisionProvider {
  readonly name = LOCAL_PROVIDER;
  readonly model = LOCAL_MODEL;
  readonly metered = false;

  constructor(private readonly vision: VisionService) {}

  async analyse({ image, prompt }: VisionRequest): Promise<VisionAnswer> {
    const [statistics, findings] = await Promise.all([
      analyseLocally(image.data, prompt),
      this.vision.inspect(image.data, { objects: true, text: true }),
    ]);
    const objects = findings.objects ?? [];
    const text = findings.text ?? [];
    const { colours } = statistics.details;
    return {
      result: {
        summary: describe(statistics.summary, objects, text),
        tags: [
          ...new Set([...objects.map(({ label }) => label), ...(text.length > 0 ? ['text'] : []), ...statistics.tags]),
        ],
        details: { objects, text, colors: colours, ...statistics.details },
      },
      usage: { ...ZERO_USAGE },
    };
  }
}

const MAX_QUOTED_LINES = 3;
const MAX_QUOTED_LENGTH = 80;

/**
 * "A bright, sharp landscape image dominated by blue and white, with a stop sign and two cars;
 * text: 'STOP'." — the statistics sentence, then what the models found.
 */
export function describe(statisticsSummary: string, objects: DetectedObject[], text: RecognisedText[]): string {
  const base = statisticsSummary.replace(/\.$/, '');
  const found = objects.length > 0 ? `, with ${countObjects(objects)}` : '';
  const quoted = text
    .slice(0, MAX_QUOTED_LINES)
    .map((line) => line.text)
    .join(' / ');
  const textPart =
    quoted === ''
      ? ''
      : `; text: '${quoted.length > MAX_QUOTED_LENGTH ? `${quoted.slice(0, MAX_QUOTED_LENGTH - 1)}…` : quoted}'`;
  return `${base}${found}${textPart}.`;
}

const NUMBERS = ['no', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const IRREGULAR: Record<string, string> = {
  person: 'people',
  mouse: 'mice',
  knife: 'knives',
  sheep: 'sheep',
  skis: 'skis',
  scissors: 'scissors',
};

/** "two cars and a person": labels by count (most first), then by best score. */
export function countObjects(objects: DetectedObject[]): string {
  const groups = new Map<string, { count: number; best: number }>();
  for (const { label, score } of objects) {
    const group = groups.get(label) ?? { count: 0, best: 0 };
    groups.set(label, { count: group.count + 1, best: Math.max(group.best, score) });
  }
  const phrases = [...groups.entries()]
    .sort(([, a], [, b]) => b.count - a.count || b.best - a.best)
    .map(([label, { count }]) =>
      count === 1 ? `${article(label)} ${label}` : `${NUMBERS[count] ?? count} ${plural(label)}`,
    );
  return phrases.length <= 1
    ? phrases.join('')
    : `${phrases.slice(0, -1).join(', ')} and ${phrases[phrases.length - 1]}`;
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function plural(label: string): string {
  const words = label.split(' ');
  const last = words.pop() ?? label;
  const plural = IRREGULAR[last] ?? (/(s|sh|ch|x)$/.test(last) ? `${last}es` : `${last}s`);
  return [...words, plural].join(' ');
}
