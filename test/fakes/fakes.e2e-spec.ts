import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { defaultStackParser, makeNodeTransport, NodeClient, Scope } from '@sentry/node';
import { AbuseIpDbFake } from './abuseipdb-fake';
import { OPENAI_FAKE_DEFAULT_RESULT, OpenAiFake } from './openai-fake';
import { SentryFake } from './sentry-fake';

const PNG_DATA_URL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

/**
 * Jest runs test code in a vm context, but `fetch` comes from Node's own realm: its abort error is a
 * DOMException that fails the SDK's `instanceof Error`, so the SDK turns it into `new Error('{}')`,
 * loses `name: 'AbortError'` and throws APIConnectionError instead of APIConnectionTimeoutError.
 * Re-throwing the abort as a local Error restores the SDK's behaviour outside Jest.
 */
const jestRealmSafeFetch: typeof fetch = (input, init) =>
  fetch(input, init).catch((error: unknown) => {
    const name = typeof error === 'object' && error !== null && 'name' in error ? error.name : undefined;
    throw name === 'AbortError' ? Object.assign(new Error('The operation was aborted.'), { name }) : error;
  });

function analysisRequest(): ChatCompletionCreateParamsNonStreaming {
  return {
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'Describe the image as JSON.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this image?' },
          { type: 'image_url', image_url: { url: PNG_DATA_URL, detail: 'low' } },
        ],
      },
    ],
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'analysis',
        strict: true,
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['summary', 'tags', 'details'],
          properties: {
            summary: { type: 'string' },
            tags: { type: 'array', items: { type: 'string' } },
            details: { type: 'object' },
          },
        },
      },
    },
  };
}

describe('OpenAiFake through the openai SDK', () => {
  const fake = new OpenAiFake({ apiKey: 'sk-test-good', usage: { prompt_tokens: 900, completion_tokens: 50 } });
  const client = (options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI =>
    new OpenAI({ apiKey: 'sk-test-good', baseURL: `${fake.url}/v1`, maxRetries: 0, timeout: 5000, ...options });

  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  it('answers a json_schema request with an image with a chat.completion and usage', async () => {
    const completion = await client().chat.completions.create(analysisRequest(), {
      headers: { 'X-Request-ID': 'corr-123' },
    });

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual(OPENAI_FAKE_DEFAULT_RESULT);
    expect(completion.usage).toEqual({ prompt_tokens: 900, completion_tokens: 50, total_tokens: 950 });

    expect(fake.callCount).toBe(1);
    const [request] = fake.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      model: 'gpt-4o-mini',
      hasImageDataUrl: true,
      responseFormatType: 'json_schema',
      requestId: 'corr-123',
    });
    expect(request.headers).toMatchObject({
      authorization: 'Bearer sk-test-good',
      'content-type': 'application/json',
      'x-stainless-retry-count': '0',
    });
    // X-Stainless-Timeout is only sent for a per-request `timeout`, not the client-level one.
    expect(request.headers).not.toHaveProperty('x-stainless-timeout');
  });

  it('serves scripted content, invalid JSON and json_object requests', async () => {
    fake.respondWith((req) => ({ summary: `model ${req.model}`, tags: [], details: {} }), 1).invalidJson(1);
    const params = { ...analysisRequest(), response_format: { type: 'json_object' as const } };

    const first = await client().chat.completions.create(params);
    const second = await client().chat.completions.create(params);
    const third = await client().chat.completions.create(params);

    expect(JSON.parse(first.choices[0].message.content ?? '')).toMatchObject({ summary: 'model gpt-4o-mini' });
    expect(() => JSON.parse(second.choices[0].message.content ?? '')).toThrow(SyntaxError);
    expect(JSON.parse(third.choices[0].message.content ?? '')).toEqual(OPENAI_FAKE_DEFAULT_RESULT);
    expect(fake.requests.map((r) => r.responseFormatType)).toEqual(['json_object', 'json_object', 'json_object']);
  });

  it('lets the SDK retry a 429 after its retry-after and then succeed', async () => {
    fake.failWith(429, 1);
    const started = Date.now();

    const completion = await client({ maxRetries: 1 }).chat.completions.create(analysisRequest());

    expect(completion.choices[0].message.content).toBeTruthy();
    expect(fake.callCount).toBe(2);
    expect(fake.requests.map((r) => r.headers['x-stainless-retry-count'])).toEqual(['0', '1']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950); // retry-after: 1 is honoured
  });

  it('surfaces 429 and 5xx as the SDK error classes when retries are off', async () => {
    fake.failWith(429, 1).failWith(503, 1);

    const rateLimited = await client().chat.completions.create(analysisRequest()).catch((e: unknown) => e);
    const unavailable = await client().chat.completions.create(analysisRequest()).catch((e: unknown) => e);

    expect(rateLimited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((rateLimited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('1');
    expect(unavailable).toBeInstanceOf(OpenAI.InternalServerError);
    expect((unavailable as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(503);
  });

  it('rejects a wrong key with 401 in the OpenAI error shape', async () => {
    const error = await client({ apiKey: 'sk-test-wrong-key' })
      .chat.completions.create(analysisRequest())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const authError = error as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(authError.status).toBe(401);
    expect(authError.code).toBe('invalid_api_key');
    expect(authError.type).toBe('invalid_request_error');
    expect(authError.message).not.toContain('sk-test-wrong-key');
  });

  it('delays answers and hangs until the SDK times out', async () => {
    fake.delay(300, 1);
    const started = Date.now();
    await client().chat.completions.create(analysisRequest());
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);

    fake.hang();
    // Under Jest the SDK cannot recognise its own timeout (see jestRealmSafeFetch) ...
    await expect(client({ timeout: 200 }).chat.completions.create(analysisRequest())).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    // ... with a realm-safe fetch it reports the timeout as it does outside Jest.
    await expect(
      client({ timeout: 200, fetch: jestRealmSafeFetch }).chat.completions.create(analysisRequest()),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    // A caller-owned AbortSignal is recognised in every realm (APIUserAbortError, signal.aborted).
    const signal = AbortSignal.timeout(200);
    await expect(client().chat.completions.create(analysisRequest(), { signal })).rejects.toBeInstanceOf(
      OpenAI.APIUserAbortError,
    );
    expect(signal.aborted).toBe(true);
    expect(fake.callCount).toBe(4);
  });
});

describe('AbuseIpDbFake through fetch', () => {
  const fake = new AbuseIpDbFake({ validKeys: ['key-a', 'key-b'] });
  const check = (ip: string, key = 'key-a', extra = '&maxAgeInDays=90&verbose'): Promise<Response> =>
    fetch(`${fake.url}/api/v2/check?ipAddress=${encodeURIComponent(ip)}${extra}`, {
      headers: { Key: key, Accept: 'application/json', 'X-Request-ID': 'corr-456' },
    });

  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  it('answers a verbose check with the AbuseIPDB shape and rate-limit headers', async () => {
    fake.setScore('185.220.101.1', { abuseConfidenceScore: 100, totalReports: 42, countryCode: 'DE', isTor: true });

    const res = await check('185.220.101.1');
    const body = (await res.json()) as { data: Record<string, unknown> };

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-ratelimit-limit')).toBe('1000');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('999');
    expect(Number(res.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(body.data).toMatchObject({
      ipAddress: '185.220.101.1',
      isPublic: true,
      ipVersion: 4,
      abuseConfidenceScore: 100,
      countryCode: 'DE',
      countryName: 'Germany',
      isTor: true,
      totalReports: 42,
      hostnames: [],
    });
    expect(body.data.lastReportedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect(body.data.reports).toHaveLength(5);
    expect(fake.requests[0]).toMatchObject({ key: 'key-a', requestId: 'corr-456', ipAddress: '185.220.101.1' });
  });

  it('defaults unknown addresses to score 0 and omits verbose fields without verbose', async () => {
    const res = await check('2001:db8::1', 'key-b', '');
    const { data } = (await res.json()) as { data: Record<string, unknown> };

    expect(data).toMatchObject({ ipVersion: 6, abuseConfidenceScore: 0, totalReports: 0, lastReportedAt: null });
    expect(data).not.toHaveProperty('reports');
    expect(data).not.toHaveProperty('countryName');
  });

  it('rejects an unknown key with 401 and garbage addresses with 422', async () => {
    const unauthorized = await check('8.8.8.8', 'nope');
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({
      errors: [
        {
          detail:
            'Authentication failed. Your API key is either missing, incorrect, or revoked. Note: The APIv2 key differs from the APIv1 key.',
          status: 401,
        },
      ],
    });

    const invalid = await check('999.1.1.1');
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({ errors: [{ status: 422, source: { parameter: 'ipAddress' } }] });
  });

  it('answers 429 with Retry-After once a key is exhausted, other keys keep working', async () => {
    fake.exhaustKey('key-a');

    const limited = await check('8.8.8.8', 'key-a');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-reset')).toMatch(/^\d+$/);
    expect(await limited.json()).toEqual({
      errors: [
        {
          detail: 'Daily rate limit of 1000 requests exceeded for this endpoint. See headers for additional details.',
          status: 429,
        },
      ],
    });

    expect((await check('8.8.8.8', 'key-b')).status).toBe(200);
    expect(fake.requests.map((r) => r.key)).toEqual(['key-a', 'key-b']);
  });

  it('fails, then recovers, and can hang until the caller gives up', async () => {
    fake.failWith(503, 1);
    expect((await check('1.1.1.1')).status).toBe(503);
    expect((await check('1.1.1.1')).status).toBe(200);
    expect(fake.callCount).toBe(2);

    fake.hang();
    await expect(
      fetch(`${fake.url}/api/v2/check?ipAddress=1.1.1.1`, {
        headers: { Key: 'key-a' },
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});

describe('SentryFake through a real @sentry/node client', () => {
  const fake = new SentryFake();

  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  afterEach(() => fake.reset());

  function isolatedClient(): { client: NodeClient; scope: Scope } {
    const client = new NodeClient({
      dsn: fake.dsn,
      transport: makeNodeTransport,
      stackParser: defaultStackParser,
      integrations: [],
    });
    client.init();
    const scope = new Scope();
    scope.setClient(client);
    return { client, scope };
  }

  it('receives an exception event with its requestId tag', async () => {
    const { client, scope } = isolatedClient();
    scope.setTag('requestId', 'corr-789');

    scope.captureException(new Error('upstream exploded'));
    await client.flush(2000);

    const event = await fake.waitFor((e) => e.tags?.requestId === 'corr-789', 2000);
    expect(event.exception?.values?.[0]).toMatchObject({ type: 'Error', value: 'upstream exploded' });
    expect(fake.envelopes[0].header).toMatchObject({ event_id: event.event_id });
    expect(fake.requests[0].query.get('sentry_key')).toBe('publickey');
    await client.close(1000);
  });

  it('collects messages and explains a waitFor timeout', async () => {
    const { client, scope } = isolatedClient();
    scope.captureMessage('API key expires soon', 'warning');
    await client.flush(2000);

    await fake.waitFor((e) => e.level === 'warning');
    expect(fake.messages).toEqual(['API key expires soon']);
    await expect(fake.waitFor((e) => e.tags?.requestId === 'missing', 100)).rejects.toThrow(
      /no matching event within 100 ms[\s\S]*API key expires soon/,
    );
    await client.close(1000);
  });

  it('decodes the gzip body the real transport sends for events over 32 KiB', async () => {
    const { client, scope } = isolatedClient();
    scope.setExtra('blob', 'x'.repeat(40_000));
    scope.captureMessage('big one');
    await client.flush(2000);

    const event = await fake.waitFor((e) => e.message === 'big one');
    expect(event.extra?.blob).toHaveLength(40_000);
    expect(fake.requests[0].headers['content-encoding']).toBe('gzip');
    await client.close(1000);
  });

  it('parses gzip envelopes with length-prefixed items and the legacy store endpoint', async () => {
    const event = JSON.stringify({ event_id: 'a'.repeat(32), message: 'line one\nline two', level: 'error' });
    const attachment = 'raw\nbytes';
    const envelope = [
      JSON.stringify({ event_id: 'a'.repeat(32), dsn: fake.dsn }),
      JSON.stringify({ type: 'event', length: Buffer.byteLength(event) }),
      event,
      JSON.stringify({ type: 'attachment', length: Buffer.byteLength(attachment), filename: 'a.txt' }),
      attachment,
    ].join('\n');

    const res = await fetch(`${fake.url}/api/1/envelope/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-sentry-envelope', 'content-encoding': 'gzip' },
      body: gzipSync(envelope),
    });
    const store = await fetch(`${fake.url}/api/1/store/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event_id: 'b'.repeat(32), message: 'legacy' }),
    });

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'a'.repeat(32) });
    expect(await store.json()).toEqual({ id: 'b'.repeat(32) });
    expect(fake.envelopes[0].items.map((i) => i.payload)).toEqual([JSON.parse(event), attachment]);
    expect(fake.messages).toEqual(['line one\nline two', 'legacy']);
  });
});
