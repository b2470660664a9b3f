import { ZERO_USAGE } from '../analysis.types';
import { analyseLocally } from './local-vision.analyzer';
import { VisionAnswer, VisionProvider, VisionRequest } from './vision-provider';

export const LOCAL_PROVIDER = 'local';
/** Bump when analyseLocally's measurements or wording change: it is part of the cache key. */
export const LOCAL_MODEL = 'local-pixel-stats-v1';

/** The embedded default: a deterministic description from the pixels (sharp), free and offline. */
export class LocalVisionProvider implements VisionProvider {
  readonly name = LOCAL_PROVIDER;
  readonly model = LOCAL_MODEL;
  readonly metered = false;

  async analyse({ image, prompt }: VisionRequest): Promise<VisionAnswer> {
    return { result: await analyseLocally(image.data, prompt), usage: { ...ZERO_USAGE } };
  }
}
