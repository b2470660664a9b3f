import type { AiSettings } from '../../config/config.types';
import type { OutboundHttpService } from '../../outbound-http/outbound-http.service';
import { UpstreamUnavailableError } from '../../outbound-http/outbound-http.errors';
import type { ModerationImage, ModerationProvider } from './moderation.types';

export const OPENAI_MODERATION = 'openai';
/** The moderation model that accepts images. */
export const OPENAI_MODERATION_MODEL = 'omni-moderation-latest';
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

interface ModerationResponse {
  results?: Array<{ category_scores?: Record<string, unknown> }>;
}

/**
 * OpenAI's moderation endpoint with the image as a data URL, through OutboundHttpService (timeout,
 * retries, circuit breaker `openai-moderation`, X-Request-ID). Categories are OpenAI's
 * (`sexual`, `violence`, `self-harm`, …), scores clamped to 0–1.
 */
export class OpenAiModerationProvider implements ModerationProvider {
  readonly name = OPENAI_MODERATION;
  private readonly url: string;

  constructor(
    private readonly http: OutboundHttpService,
    private readonly ai: AiSettings,
  ) {
    this.url = `${(ai.openaiBaseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '')}/moderations`;
  }

  async score({ data, contentType }: ModerationImage): Promise<Record<string, number>> {
    const response = await this.http.request('openai-moderation', {
      url: this.url,
      method: 'POST',
      headers: { Authorization: `Bearer ${this.ai.openaiApiKey ?? ''}` },
      body: {
        model: OPENAI_MODERATION_MODEL,
        input: [{ type: 'image_url', image_url: { url: `data:${contentType};base64,${data.toString('base64')}` } }],
      },
      timeoutMs: this.ai.timeoutMs,
    });
    const scores = (response.body as ModerationResponse | undefined)?.results?.[0]?.category_scores;
    if (!scores || typeof scores !== 'object') {
      throw new UpstreamUnavailableError(
        'openai-moderation',
        response.status,
        new Error('answer without category_scores'),
      );
    }
    const categories: Record<string, number> = {};
    for (const [name, value] of Object.entries(scores)) {
      if (typeof value === 'number' && Number.isFinite(value)) categories[name] = Math.min(1, Math.max(0, value));
    }
    return categories;
  }
}
