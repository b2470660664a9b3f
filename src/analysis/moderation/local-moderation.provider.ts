import type { VisionService } from '../../vision/vision.service';
import type { ModerationImage, ModerationProvider } from './moderation.types';

export const LOCAL_MODERATION = 'local';

/**
 * The shipped NSFW classifier (nsfwjs MobileNetV2) through src/vision: `sexual` is the score of its
 * explicit classes (porn, hentai), `suggestive` of its `sexy` class. It knows nothing of violence,
 * hate or self-harm: MODERATION_PROVIDER=openai covers those.
 */
export class LocalModerationProvider implements ModerationProvider {
  readonly name = LOCAL_MODERATION;

  constructor(private readonly vision: VisionService) {}

  async score({ data }: ModerationImage): Promise<Record<string, number>> {
    const { safety } = await this.vision.inspect(data, { safety: true });
    if (!safety) return {};
    return {
      sexual: round(Math.min(1, safety.porn + safety.hentai)),
      suggestive: round(safety.sexy),
    };
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
