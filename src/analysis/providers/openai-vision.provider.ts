import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import OpenAI from 'openai';
import type { ChatCompletion, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { classifyOpenAiError } from '../../outbound-http/openai-error.classifier';
import { OutboundHttpService } from '../../outbound-http/outbound-http.service';
import type { OperationContext } from '../../outbound-http/outbound-http.types';
import type { AiSettings, ModelPrice } from '../../config/config.types';
import { AppConfig } from '../../config/config.types';
import { MetricsService } from '../../metrics/metrics.service';
import type { AnalysisUsage } from '../analysis.types';
import { computeCostUsd, priceFor } from './ai-cost';
import { buildVisionMessages, VISION_RESPONSE_FORMAT } from './openai-vision.prompt';
import { parseVisionOutput, VisionOutputCheck } from './vision-output';
import { VisionAnswer, VisionProvider, VisionRequest } from './vision-provider';
import { InvalidVisionOutputError, VisionRefusedError } from './vision.errors';

export const OPENAI_PROVIDER = 'openai';
/** A model answer that fails the schema is asked for once more, then the analysis fails (502). */
const OUTPUT_ATTEMPTS = 2;
/** Bounds the paid output of one call; a full answer takes a few hundred tokens. */
const MAX_COMPLETION_TOKENS = 1200;
const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
/** The SDK's own timeout is only a backstop behind the per-attempt timeout of OutboundHttpService. */
const SDK_TIMEOUT_MARGIN_MS = 1000;

/**
 * Vision through the official `openai` SDK against OPENAI_BASE_URL (OpenAI or any compatible
 * endpoint): Chat Completions with the image as a data URL and Structured Outputs (strict JSON
 * schema). The SDK neither retries nor times out on its own (`maxRetries: 0`): OutboundHttpService
 * is the one layer for timeout, retries, circuit breaker, metrics and X-Request-ID. Built by the
 * VISION_PROVIDER factory only when AI_PROVIDER=openai.
 */
export class OpenAiVisionProvider implements VisionProvider {
  readonly name = OPENAI_PROVIDER;
  readonly metered = true;
  readonly model: string;
  private readonly logger = new Logger(OpenAiVisionProvider.name);
  private readonly client: OpenAI;
  private readonly timeoutMs: number;
  private readonly price: ModelPrice | undefined;

  constructor(
    private readonly http: OutboundHttpService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    const ai: AiSettings = config.get('ai', { infer: true });
    this.model = ai.model;
    this.timeoutMs = ai.timeoutMs;
    this.price = priceFor(ai.prices, ai.model);
    if (!this.price) this.logger.warn({ msg: 'no price known for the model; its cost is recorded as 0', model: ai.model });
    // Every option explicit: the SDK would otherwise read OPENAI_* variables from process.env itself.
    this.client = new OpenAI({
      apiKey: ai.openaiApiKey,
      baseURL: ai.openaiBaseUrl ?? DEFAULT_BASE_URL,
      organization: null,
      project: null,
      webhookSecret: null,
      maxRetries: 0,
      timeout: ai.timeoutMs + SDK_TIMEOUT_MARGIN_MS,
    });
  }

  async analyse({ image, prompt }: VisionRequest): Promise<VisionAnswer> {
    const messages = buildVisionMessages(image, prompt);
    let usage: AnalysisUsage = { inputTokens: 0, outputTokens: 0, costUsd: 0 };
    let check: VisionOutputCheck = { ok: false, reason: 'no attempt' };
    for (let attempt = 1; attempt <= OUTPUT_ATTEMPTS; attempt++) {
      const completion = await this.http.execute(OPENAI_PROVIDER, (ctx) => this.complete(messages, ctx), {
        timeoutMs: this.timeoutMs,
        classify: classifyOpenAiError,
      });
      // Every answer is paid for, a rejected one included.
      usage = addUsage(usage, this.recordUsage(completion));
      const choice = completion.choices[0];
      if (choice?.message.refusal) {
        this.logger.warn({ msg: 'model refused the image', provider: this.name, model: this.model });
        throw new VisionRefusedError(this.name);
      }
      check =
        choice?.finish_reason === 'length'
          ? { ok: false, reason: 'answer cut off at max tokens' }
          : parseVisionOutput(choice?.message.content);
      if (check.ok) return { result: check.result, usage };
      this.logger.warn({ msg: 'model answer failed the result schema', provider: this.name, attempt, reason: check.reason });
    }
    throw new InvalidVisionOutputError(this.name, check.ok ? '' : check.reason);
  }

  private complete(messages: ChatCompletionMessageParam[], ctx: OperationContext): Promise<ChatCompletion> {
    return this.client.chat.completions.create(
      {
        model: this.model,
        messages,
        response_format: VISION_RESPONSE_FORMAT,
        max_completion_tokens: MAX_COMPLETION_TOKENS,
      },
      { signal: ctx.signal, headers: ctx.requestId ? { 'X-Request-ID': ctx.requestId } : undefined },
    );
  }

  private recordUsage(completion: ChatCompletion): AnalysisUsage {
    const inputTokens = completion.usage?.prompt_tokens ?? 0;
    const outputTokens = completion.usage?.completion_tokens ?? 0;
    const costUsd = computeCostUsd(inputTokens, outputTokens, this.price);
    this.metrics.recordAiUsage(this.model, inputTokens, outputTokens, costUsd);
    return { inputTokens, outputTokens, costUsd };
  }
}

function addUsage(a: AnalysisUsage, b: AnalysisUsage): AnalysisUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    costUsd: Math.round((a.costUsd + b.costUsd) * 1e9) / 1e9,
  };
}
