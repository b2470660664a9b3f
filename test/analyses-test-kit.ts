import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import type { OpenAiFake } from './fakes/openai-fake';
import { bearer, RegisteredUser, registerUser } from './support/auth';
import { createTestApp, TestApp, TestAppOptions } from './support/test-app';

export { eventually } from './support/net';

/** Every request of a suite comes from 127.0.0.1: generous limits unless a test is about them. */
export const GENEROUS_LIMITS = {
  RATE_LIMIT_PER_MINUTE: '100000',
  AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  ANALYSIS_RATE_LIMIT_PER_MINUTE: '100000',
};

/**
 * The app's AI settings for the OpenAI-compatible fake; moderation through the fake's
 * /v1/moderations too (the local classifier's model load would dominate these tests).
 */
export function openAiEnv(fake: OpenAiFake, timeoutMs = 5000): Record<string, string> {
  return {
    AI_PROVIDER: 'openai',
    MODERATION_PROVIDER: 'openai',
    OPENAI_API_KEY: fake.apiKey,
    OPENAI_BASE_URL: `${fake.url}/v1`,
    OPENAI_MODEL: 'gpt-4o-mini',
    OPENAI_TIMEOUT_MS: String(timeoutMs),
  };
}

export interface UploadOptions {
  filename?: string;
  contentType?: string;
  prompt?: string;
  metadata?: string;
  requestId?: string;
  /** The `Prefer` header (`respond-async`, `wait=N`). */
  prefer?: string;
}

export interface AnalysisSuite {
  t: TestApp;
  user: RegisteredUser;
  /** POST /v1/analyses as `as` (default: the suite's user). */
  upload(file: Buffer, options?: UploadOptions, as?: RegisteredUser): request.Test;
  get(path: string, as?: RegisteredUser): request.Test;
  del(path: string, as?: RegisteredUser): request.Test;
  newUser(): Promise<RegisteredUser>;
}

export async function startAnalysisSuite(
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<AnalysisSuite> {
  const t = await createTestApp({ ...GENEROUS_LIMITS, ...env }, options);
  return suiteFor(t, await registerUser(t));
}

export function suiteFor(t: TestApp, user: RegisteredUser): AnalysisSuite {
  return {
    t,
    user,
    upload: (file, options = {}, as = user) => {
      const req = t.http().post('/v1/analyses').set(bearer(as));
      if (options.requestId) req.set('X-Request-ID', options.requestId);
      if (options.prefer) req.set('Prefer', options.prefer);
      if (options.prompt !== undefined) req.field('prompt', options.prompt);
      if (options.metadata !== undefined) req.field('metadata', options.metadata);
      return req.attach('file', file, {
        filename: options.filename ?? 'photo.jpg',
        contentType: options.contentType ?? 'image/jpeg',
      });
    },
    get: (path, as = user) => t.http().get(path).set(bearer(as)),
    del: (path, as = user) => t.http().delete(path).set(bearer(as)),
    newUser: () => registerUser(t),
  };
}

/**
 * Waits until the event loop answers promptly: an app that has just booted loads datasets in the
 * background (IP enrichment) for a few seconds, and timing assertions made meanwhile measure that.
 */
export async function quietEventLoop(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let calm = 0; calm < 10 && Date.now() < deadline; ) {
    const started = performance.now();
    await sleep(20);
    calm = performance.now() - started < 40 ? calm + 1 : 0;
  }
}

export function expectProblem(res: request.Response, status: number, typeSuffix?: string): void {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status });
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status,
    type: expect.any(String),
    title: expect.any(String),
    detail: expect.any(String),
    requestId: expect.any(String),
  });
  if (typeSuffix) expect((res.body as { type: string }).type.endsWith(typeSuffix)).toBe(true);
}

/** supertest's parser for binary bodies (images). */
export function binaryParser(res: request.Response, callback: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
