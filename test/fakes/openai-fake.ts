import { randomBytes } from 'node:crypto';
import { ServerResponse } from 'node:http';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import { FakeServer, isRecord, RecordedRequest, Script } from './fake-server';

/** A request to the OpenAI fake, with the fields e2e tests usually assert on. */
export interface OpenAiRecordedRequest extends RecordedRequest {
  /** `model` from the JSON body. */
  model: string | undefined;
  /** A user message carried an `image_url` part whose URL is `data:image/<type>;base64,...`. */
  hasImageDataUrl: boolean;
  /** `response_format.type` from the body: `json_schema`, `json_object`, `text` or undefined. */
  responseFormatType: string | undefined;
  /** The `x-request-id` request header (the app's correlation id). */
  requestId: string | undefined;
}

/** Message content to answer with: a string as is, an object JSON-encoded. */
export type OpenAiContent = string | Record<string, unknown>;
export type OpenAiContentSource = OpenAiContent | ((req: OpenAiRecordedRequest) => OpenAiContent);

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface OpenAiFakeOptions {
  /** The only key accepted in `Authorization: Bearer <key>`. Default `sk-test-openai-fake`. */
  apiKey?: string;
  /** Token usage reported on every completion. Default 850 prompt / 60 completion tokens. */
  usage?: OpenAiUsage;
}

/** The structured result the fake answers with unless told otherwise. */
export const OPENAI_FAKE_DEFAULT_RESULT = {
  summary: 'A red square centred on a white background.',
  tags: ['red', 'square', 'geometric'],
  details: { dominantColor: 'red', objectCount: 1, containsText: false },
};

const COMPLETIONS_PATH = '/v1/chat/completions';
const MODERATIONS_PATH = '/v1/moderations';

/** The category scores the moderation endpoint answers with unless told otherwise: nothing flagged. */
export const OPENAI_FAKE_DEFAULT_MODERATION: Readonly<Record<string, number>> = Object.freeze({
  sexual: 0.0012,
  'sexual/minors': 0.0001,
  harassment: 0.0003,
  hate: 0.0002,
  violence: 0.0021,
  'violence/graphic': 0.0004,
  'self-harm': 0.0001,
  illicit: 0.0002,
});

type ModerationAction = { kind: 'scores'; scores: Record<string, number> } | { kind: 'fail'; status: number };
const DATA_IMAGE_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;

type Action =
  | { kind: 'respond'; content: OpenAiContentSource }
  | { kind: 'fail'; status: number; retryAfterSeconds: number | undefined }
  | { kind: 'hang' };

/**
 * Speaks the OpenAI Chat Completions wire format at `POST /v1/chat/completions`.
 * Point the SDK at `baseURL: fake.url + '/v1'`.
 *
 * Order per request: scripted delay → bearer check (a 401 consumes no scripted step) → body check
 * (400) → the next scripted step, or the default answer (`OPENAI_FAKE_DEFAULT_RESULT`).
 */
export class OpenAiFake extends FakeServer<OpenAiRecordedRequest> {
  readonly apiKey: string;
  private readonly usage: OpenAiUsage;
  private readonly script = new Script<Action>();
  private readonly delays = new Script<number>();
  private readonly moderationScript = new Script<ModerationAction>();

  constructor(options: OpenAiFakeOptions = {}) {
    super();
    this.apiKey = options.apiKey ?? 'sk-test-openai-fake';
    this.usage = options.usage ?? { prompt_tokens: 850, completion_tokens: 60 };
  }

  /** Requests received at `POST /v1/chat/completions` (every attempt, failed ones included). */
  get callCount(): number {
    return this.requests.filter((r) => r.method === 'POST' && r.path === COMPLETIONS_PATH).length;
  }

  /** Requests received at `POST /v1/moderations` (every attempt, failed ones included). */
  get moderationCalls(): OpenAiRecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === MODERATIONS_PATH);
  }

  /** Requests received at `POST /v1/moderations`. */
  get moderationCount(): number {
    return this.moderationCalls.length;
  }

  /** Moderate with these category scores `times` times, or always (default: OPENAI_FAKE_DEFAULT_MODERATION). */
  moderateWith(scores: Record<string, number>, times?: number): this {
    this.moderationScript.add({ kind: 'scores', scores }, times);
    return this;
  }

  /** Answer moderation requests with an OpenAI error `times` times, or always. */
  failModerationWith(status: number, times?: number): this {
    this.moderationScript.add({ kind: 'fail', status }, times);
    return this;
  }

  /** Answer with this message content (or what the function returns) `times` times, or always. */
  respondWith(content: OpenAiContentSource, times?: number): this {
    this.script.add({ kind: 'respond', content }, times);
    return this;
  }

  /** Answer with an OpenAI error. 429 carries `retry-after` (default 1 s); others only if given. */
  failWith(status: number, times?: number, options: { retryAfterSeconds?: number } = {}): this {
    const retryAfterSeconds = options.retryAfterSeconds ?? (status === 429 ? 1 : undefined);
    this.script.add({ kind: 'fail', status, retryAfterSeconds }, times);
    return this;
  }

  /** Answer `times` times (or always) with content that is not JSON (`syntax`) or not the schema. */
  invalidJson(times?: number, kind: 'syntax' | 'schema' = 'syntax'): this {
    const content =
      kind === 'syntax'
        ? 'Sure! Here is what I see: {"summary": "a red square", "tags": ["red"'
        : { description: 'a red square', labels: 'red', confidence: 'high' };
    return this.respondWith(content, times);
  }

  /** Accept the request and never answer (until `close()`), `times` times or always. */
  hang(times?: number): this {
    this.script.add({ kind: 'hang' }, times);
    return this;
  }

  /** Wait `ms` before handling each of the next `times` requests (or every request). */
  delay(ms: number, times?: number): this {
    this.delays.add(ms, times);
    return this;
  }

  /** Forget scripted behaviour and the request log. */
  reset(): void {
    this.script.clear();
    this.delays.clear();
    this.moderationScript.clear();
    this.requests.length = 0;
  }

  protected describe(req: RecordedRequest): OpenAiRecordedRequest {
    const body = isRecord(req.body) ? req.body : {};
    const format = isRecord(body.response_format) ? body.response_format.type : undefined;
    return {
      ...req,
      model: typeof body.model === 'string' ? body.model : undefined,
      hasImageDataUrl: hasImageDataUrl(body.messages) || isImageInput(body.input),
      responseFormatType: typeof format === 'string' ? format : undefined,
      requestId: req.headers['x-request-id'],
    };
  }

  protected async handle(req: OpenAiRecordedRequest, res: ServerResponse): Promise<void> {
    const delayMs = this.delays.next();
    if (delayMs !== undefined) await this.sleep(delayMs);

    if (req.method === 'POST' && req.path === MODERATIONS_PATH) return this.handleModeration(req, res);
    if (req.method !== 'POST' || req.path !== COMPLETIONS_PATH) {
      return this.sendError(res, 404, `Invalid URL (${req.method} ${req.path})`, 'invalid_request_error');
    }
    const authError = this.checkAuth(req.headers.authorization);
    if (authError) return this.sendError(res, 401, authError.message, 'invalid_request_error', authError.code);

    const body = req.body;
    if (!isRecord(body) || typeof body.model !== 'string' || !Array.isArray(body.messages)) {
      return this.sendError(res, 400, "Missing required parameters: 'model' and 'messages'.", 'invalid_request_error');
    }
    if (body.stream === true) {
      return this.sendError(res, 400, 'OpenAiFake does not implement streaming.', 'invalid_request_error');
    }

    const action = this.script.next() ?? { kind: 'respond', content: OPENAI_FAKE_DEFAULT_RESULT };
    switch (action.kind) {
      case 'hang':
        return; // never answered; close() destroys the socket
      case 'fail':
        return this.sendFailure(res, action.status, action.retryAfterSeconds, body.model);
      case 'respond': {
        const content = typeof action.content === 'function' ? action.content(req) : action.content;
        return this.sendJson(res, 200, this.completion(body.model, content), this.responseHeaders());
      }
    }
  }

  /** `POST /v1/moderations` (omni-moderation: `input` may hold image parts): scripted scores, flagged at 0.5. */
  private handleModeration(req: OpenAiRecordedRequest, res: ServerResponse): void {
    const authError = this.checkAuth(req.headers.authorization);
    if (authError) return this.sendError(res, 401, authError.message, 'invalid_request_error', authError.code);
    const body = req.body;
    if (!isRecord(body) || body.input === undefined) {
      return this.sendError(res, 400, "Missing required parameter: 'input'.", 'invalid_request_error');
    }
    const action = this.moderationScript.next() ?? { kind: 'scores', scores: OPENAI_FAKE_DEFAULT_MODERATION };
    if (action.kind === 'fail') return this.sendFailure(res, action.status, undefined, 'omni-moderation-latest');
    const { scores } = action;
    const categories = Object.fromEntries(Object.entries(scores).map(([name, score]) => [name, score >= 0.5]));
    const applied = Object.fromEntries(Object.keys(scores).map((name) => [name, ['image']]));
    this.sendJson(
      res,
      200,
      {
        id: `modr-${randomBytes(12).toString('hex')}`,
        model: typeof body.model === 'string' ? body.model : 'omni-moderation-latest',
        results: [
          {
            flagged: Object.values(categories).some(Boolean),
            categories,
            category_scores: scores,
            category_applied_input_types: applied,
          },
        ],
      },
      this.responseHeaders(),
    );
  }

  private completion(model: string, content: OpenAiContent): ChatCompletion {
    const { prompt_tokens, completion_tokens } = this.usage;
    return {
      id: `chatcmpl-${randomBytes(12).toString('hex')}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: typeof content === 'string' ? content : JSON.stringify(content),
            refusal: null,
            annotations: [],
          },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
      service_tier: 'default',
      system_fingerprint: 'fp_openai_fake',
    };
  }

  private checkAuth(header: string | undefined): { message: string; code: string | null } | undefined {
    const key = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    if (!key) {
      return {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header " +
          'using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).',
        code: null,
      };
    }
    if (key !== this.apiKey) {
      const masked = key.length > 8 ? `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}` : '***';
      return {
        message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        code: 'invalid_api_key',
      };
    }
    return undefined;
  }

  private sendFailure(res: ServerResponse, status: number, retryAfterSeconds: number | undefined, model: string): void {
    const headers: Record<string, string> = {};
    if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
    if (status === 429) {
      headers['x-ratelimit-limit-requests'] = '500';
      headers['x-ratelimit-remaining-requests'] = '0';
      headers['x-ratelimit-reset-requests'] = `${retryAfterSeconds ?? 1}s`;
      const message =
        `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): ` +
        `Limit 500, Used 500, Requested 1. Please try again in ${retryAfterSeconds ?? 1}s.`;
      return this.sendError(res, 429, message, 'requests', 'rate_limit_exceeded', headers);
    }
    const message =
      status === 503
        ? 'The server is overloaded or not ready yet.'
        : status >= 500
          ? 'The server had an error while processing your request. Sorry about that!'
          : `OpenAiFake scripted failure (${status}).`;
    return this.sendError(res, status, message, status >= 500 ? 'server_error' : 'invalid_request_error', null, headers);
  }

  private sendError(
    res: ServerResponse,
    status: number,
    message: string,
    type: string,
    code: string | null = null,
    headers: Record<string, string> = {},
  ): void {
    this.sendJson(res, status, { error: { message, type, param: null, code } }, { ...this.responseHeaders(), ...headers });
  }

  /** OpenAI's own response headers; note its `x-request-id` is OpenAI's id, not the caller's. */
  private responseHeaders(): Record<string, string> {
    return {
      'x-request-id': `req_${randomBytes(16).toString('hex')}`,
      'openai-version': '2020-10-01',
      'openai-processing-ms': '42',
    };
  }
}

function hasImageDataUrl(messages: unknown): boolean {
  if (!Array.isArray(messages)) return false;
  return messages.some(
    (message) =>
      isRecord(message) &&
      message.role === 'user' &&
      Array.isArray(message.content) &&
      message.content.some(
        (part) =>
          isRecord(part) &&
          part.type === 'image_url' &&
          isRecord(part.image_url) &&
          typeof part.image_url.url === 'string' &&
          DATA_IMAGE_URL.test(part.image_url.url),
      ),
  );
}

/** A moderation `input` with an image part whose URL is a `data:image/...;base64,` URL. */
function isImageInput(input: unknown): boolean {
  return (
    Array.isArray(input) &&
    input.some(
      (part) =>
        isRecord(part) &&
        part.type === 'image_url' &&
        isRecord(part.image_url) &&
        typeof part.image_url.url === 'string' &&
        DATA_IMAGE_URL.test(part.image_url.url),
    )
  );
}
