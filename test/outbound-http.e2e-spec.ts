import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import OpenAI from 'openai';
import { RequestContext } from '../src/common/context/request-context';
import { classifyOpenAiError } from '../src/outbound-http/openai-error.classifier';
import {
  CircuitOpenError,
  UpstreamRejectedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../src/outbound-http/outbound-http.errors';
import { OutboundHttpService } from '../src/outbound-http/outbound-http.service';
import { MetricsService } from '../src/metrics/metrics.service';
import { HttpScriptServer } from './support/http-script-server';
import { eventually } from './support/net';

/** Polls `predicate` until it holds, failing after `timeoutMs`. */

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

/** Calls `call` one at a time until it stops answering CircuitOpenError, failing after `timeoutMs`. */
async function retryWhileOpen<T>(call: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof CircuitOpenError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** A port nothing listens on: bind an ephemeral one, then close it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function upstreamCount(metricsText: string, provider: string, outcome: string): number | undefined {
  const prefix = `argus_upstream_requests_total{provider="${provider}",outcome="${outcome}"} `;
  const line = metricsText.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

const CHAT_COMPLETION = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1_700_000_000,
  model: 'gpt-4o-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'a red square', refusal: null },
      finish_reason: 'stop',
      logprobs: null,
    },
  ],
  usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14 },
};

describe('OutboundHttpService against a real HTTP server', () => {
  const server = new HttpScriptServer();
  let metrics: MetricsService;
  let sut: OutboundHttpService;

  beforeAll(() => server.start());
  afterAll(() => server.close());

  beforeEach(() => {
    server.reset();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    metrics = new MetricsService();
    sut = new OutboundHttpService(metrics);
  });

  afterEach(() => jest.restoreAllMocks());

  it('retries 500, 500 and succeeds on the third request', async () => {
    server.script.add({ status: 500, body: { error: 'boom' } }, 2);
    server.script.add({ status: 200, body: { score: 12 } });

    const res = await sut.request('ipintel', { url: `${server.url}/check`, timeoutMs: 2000 });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ score: 12 });
    expect(server.requests).toHaveLength(3);
    const text = await metrics.render();
    expect(upstreamCount(text, 'ipintel', 'success')).toBe(1);
    expect(upstreamCount(text, 'ipintel', 'error')).toBeUndefined();
  });

  it('waits for Retry-After: 1 on a 429 before the next request', async () => {
    server.script.add({ status: 429, headers: { 'Retry-After': '1' } }, 1);
    server.script.add({ status: 200, body: { ok: true } });

    await expect(sut.request('ipintel', { url: `${server.url}/check`, timeoutMs: 2000 })).resolves.toMatchObject({
      status: 200,
    });

    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    expect(second.receivedAt.getTime() - first.receivedAt.getTime()).toBeGreaterThanOrEqual(900);
  });

  it('times out a hanging server, closes the socket and throws UpstreamTimeoutError', async () => {
    server.script.add({ hang: true });

    const error = await failure(sut.request('slow', { url: `${server.url}/hang`, timeoutMs: 200, retries: 0 }));

    expect(error).toBeInstanceOf(UpstreamTimeoutError);
    await eventually(() => (server.abandoned.length === 1 ? true : undefined), 'the aborted socket', 3000);
    expect(server.requests).toHaveLength(1);
    expect(upstreamCount(await metrics.render(), 'slow', 'timeout')).toBe(1);
  });

  it('sends a 400 once and throws UpstreamRejectedError with the status', async () => {
    server.script.add({ status: 400, body: { error: 'bad ip: secret-echo' } });

    const error = await failure(sut.request('ipintel', { url: `${server.url}/check`, timeoutMs: 2000 }));

    expect(error).toBeInstanceOf(UpstreamRejectedError);
    expect((error as UpstreamRejectedError).status).toBe(400);
    expect((error as UpstreamRejectedError).message).not.toContain('secret-echo');
    expect(server.requests).toHaveLength(1);
    expect(upstreamCount(await metrics.render(), 'ipintel', 'rejected')).toBe(1);
  });

  it('with retryOn429: false, throws the 429 at once with its rate-limit headers', async () => {
    server.script.add({ status: 429, headers: { 'Retry-After': '1', 'X-RateLimit-Remaining': '0' } });

    const error = await failure(
      sut.request('abuseipdb', { url: `${server.url}/check`, timeoutMs: 2000, retryOn429: false }),
    );

    expect(error).toBeInstanceOf(UpstreamRejectedError);
    expect((error as UpstreamRejectedError).status).toBe(429);
    expect((error as UpstreamRejectedError).headers?.get('x-ratelimit-remaining')).toBe('0');
    expect(server.requests).toHaveLength(1);
    expect(sut.circuitStatus('abuseipdb')).toBe('closed');
  });

  it('retries a refused connection and then throws UpstreamUnavailableError', async () => {
    const port = await closedPort();
    sut.configureProvider('down', { initialDelayMs: 10 });

    const error = await failure(sut.request('down', { url: `http://127.0.0.1:${port}/`, timeoutMs: 1000 }));

    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(upstreamCount(await metrics.render(), 'down', 'error')).toBe(1);
  });

  it('opens the circuit after 5 consecutive failures; the next call never reaches the server', async () => {
    server.script.add({ status: 503 });
    for (let i = 0; i < 5; i++) {
      await failure(sut.request('flaky', { url: `${server.url}/check`, timeoutMs: 1000, retries: 0 }));
    }
    expect(server.requests).toHaveLength(5);

    const error = await failure(sut.request('flaky', { url: `${server.url}/check`, timeoutMs: 1000 }));

    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as CircuitOpenError).retryAfterSeconds).toBeGreaterThanOrEqual(29);
    expect(server.requests).toHaveLength(5);
    const text = await metrics.render();
    expect(upstreamCount(text, 'flaky', 'error')).toBe(5);
    expect(upstreamCount(text, 'flaky', 'circuit_open')).toBe(1);
  });

  it('lets a trial call through after halfOpenAfter and closes the circuit when it succeeds', async () => {
    sut.configureProvider('recovering', { failureThreshold: 2, halfOpenAfterMs: 200 });
    server.script.add({ status: 500 }, 2);
    const call = () => sut.request('recovering', { url: `${server.url}/check`, timeoutMs: 1000, retries: 0 });
    await failure(call());
    await failure(call());
    await expect(call()).rejects.toBeInstanceOf(CircuitOpenError);

    await expect(retryWhileOpen(call)).resolves.toMatchObject({ status: 200 });

    expect(sut.circuitStatus('recovering')).toBe('closed');
    expect(server.requests).toHaveLength(3);
  });

  it('forwards X-Request-ID, JSON-encodes the body and appends the query', async () => {
    server.script.add({ status: 200, body: { created: true } });

    await RequestContext.run({ requestId: 'abc' }, () =>
      sut.request('ipintel', {
        url: `${server.url}/report`,
        method: 'POST',
        query: { ip: '203.0.113.7', verbose: true, skipped: undefined },
        headers: { Key: 'api-key-1' },
        body: { categories: [18, 22] },
        timeoutMs: 2000,
      }),
    );

    const [req] = server.requests;
    expect(req.method).toBe('POST');
    expect(req.headers['x-request-id']).toBe('abc');
    expect(req.headers['key']).toBe('api-key-1');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({ categories: [18, 22] });
    expect(req.query.get('ip')).toBe('203.0.113.7');
    expect(req.query.get('verbose')).toBe('true');
    expect(req.query.has('skipped')).toBe(false);
  });

  it('counts every outcome once per logical call in the metrics text', async () => {
    server.script.add({ status: 200, body: {} }, 1);
    server.script.add({ status: 404 }, 1);
    server.script.add({ status: 502 }, 3);
    server.script.add({ status: 200, body: {} }, 1);
    const call = () => sut.request('counted', { url: `${server.url}/x`, timeoutMs: 1000 });

    await call();
    await failure(call());
    await failure(call());
    await call();

    const text = await metrics.render();
    expect(text).toContain('argus_upstream_requests_total{provider="counted",outcome="success"} 2');
    expect(text).toContain('argus_upstream_requests_total{provider="counted",outcome="rejected"} 1');
    expect(text).toContain('argus_upstream_requests_total{provider="counted",outcome="error"} 1');
    expect(text).toContain('argus_upstream_request_duration_seconds_count{provider="counted"} 4');
    expect(server.requests).toHaveLength(6);
  });

  describe('through the openai SDK', () => {
    const client = () => new OpenAI({ apiKey: 'k', baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 10_000 });

    const complete = (timeoutMs: number) =>
      RequestContext.run({ requestId: 'req-ai-1' }, () =>
        sut.execute(
          'openai',
          ({ signal, requestId }) =>
            client().chat.completions.create(
              { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is this?' }] },
              { signal, headers: { 'X-Request-ID': requestId } },
            ),
          { timeoutMs, classify: classifyOpenAiError },
        ),
      );

    it('retries a 503 once and returns the completion, forwarding X-Request-ID each time', async () => {
      server.script.add({ status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } }, 1);
      server.script.add({ status: 200, body: CHAT_COMPLETION });

      const completion = await complete(2000);

      expect(completion.choices[0].message.content).toBe('a red square');
      expect(server.requests).toHaveLength(2);
      expect(server.requests.map((req) => req.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions']);
      expect(server.requests.map((req) => req.headers['x-request-id'])).toEqual(['req-ai-1', 'req-ai-1']);
      expect(upstreamCount(await metrics.render(), 'openai', 'success')).toBe(1);
    });

    it('aborts the SDK request at the timeout and throws UpstreamTimeoutError', async () => {
      server.script.add({ hang: true });
      sut.configureProvider('openai', { initialDelayMs: 10 });

      const error = await failure(complete(200));

      expect(error).toBeInstanceOf(UpstreamTimeoutError);
      await eventually(() => (server.abandoned.length === 3 ? true : undefined), 'the aborted sockets', 3000);
      expect(server.requests).toHaveLength(3);
    });

    it('does not retry a 401 from the SDK', async () => {
      server.script.add({
        status: 401,
        body: { error: { message: 'Incorrect API key', type: 'invalid_request_error' } },
      });

      const error = await failure(complete(2000));

      expect(error).toBeInstanceOf(UpstreamRejectedError);
      expect((error as UpstreamRejectedError).status).toBe(401);
      expect((error as UpstreamRejectedError).message).not.toContain('Incorrect API key');
      expect(server.requests).toHaveLength(1);
    });
  });
});
