import { ConfigService } from '@nestjs/config';
import type { AppConfig } from '../config/config.types';
import { VisionWarmup } from './vision-warmup';
import type { VisionService } from './vision.service';
import type { InspectOptions } from './vision.types';

describe('VisionWarmup', () => {
  function sutFor(settings: { role?: string; env?: string; ai?: string; moderation?: string }) {
    const warmed: InspectOptions[] = [];
    const vision = { warmUp: async (models: InspectOptions) => void warmed.push(models) } as unknown as VisionService;
    const config = new ConfigService<AppConfig, true>({
      jobs: { role: settings.role ?? 'all' },
      app: { env: settings.env ?? 'production' },
      ai: { provider: settings.ai ?? 'local' },
      moderation: { provider: settings.moderation ?? 'local' },
    });
    return { sut: new VisionWarmup(vision, config), warmed };
  }

  it('loads every local model at start in a process that runs jobs', () => {
    for (const role of ['all', 'worker']) {
      const { sut, warmed } = sutFor({ role });

      sut.onApplicationBootstrap();

      expect(warmed).toEqual([{ objects: true, text: true, safety: true }]);
    }
  });

  it('loads only the models the configured providers use', () => {
    expect(sutFor({ ai: 'openai' }).sut.modelsToLoad()).toEqual({ objects: false, text: false, safety: true });
    expect(sutFor({ moderation: 'openai' }).sut.modelsToLoad()).toEqual({ objects: true, text: true, safety: false });
    expect(sutFor({ ai: 'openai', moderation: 'openai' }).sut.modelsToLoad()).toBeUndefined();
  });

  it('loads nothing in an API-only process or under NODE_ENV=test', () => {
    for (const settings of [{ role: 'api' }, { env: 'test' }]) {
      const { sut, warmed } = sutFor(settings);

      sut.onApplicationBootstrap();

      expect(warmed).toEqual([]);
    }
  });
});
