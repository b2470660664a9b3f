import Redis from 'ioredis';
import { JobEvents } from '../src/jobs/job-events';
import { OutboundHttpService } from '../src/outbound-http/outbound-http.service';
import {
  AnalysisSuite,
  eventually,
  expectProblem,
  GENEROUS_LIMITS,
  openAiEnv,
  quietEventLoop,
  startAnalysisSuite,
  suiteFor,
} from './analyses-test-kit';
import { OpenAiFake } from './fakes/openai-fake';
import { truncatedJpeg, uniqueJpeg } from './fixtures/images';
import { WebhookReceiver } from './fakes/webhook-receiver';
import { bearer, registerUser } from './support/auth';
import { createTestApp, parsedLogs, servicesMode } from './support/test-app';

const MODE = servicesMode ? 'PostgreSQL + Redis (BullMQ)' : 'embedded SQLite (database runner)';

/** Fast retries and a closed circuit for the openai provider of this app. */
function resetUpstream(s: AnalysisSuite): void {
  s.t.app
    .get(OutboundHttpService, { strict: false })
    .configureProvider('openai', { initialDelayMs: 10, maxDelayMs: 50, failureThreshold: 50, halfOpenAfterMs: 30_000 });
}

async function timed<T>(work: PromiseLike<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe(`Every analysis is a job (docs/api.md, Image analysis) — ${MODE}`, () => {
  const fake = new OpenAiFake();
  const receiver = new WebhookReceiver();
  let s: AnalysisSuite;

  beforeAll(async () => {
    await fake.start();
    await receiver.start();
    s = await startAnalysisSuite({
      ...openAiEnv(fake, 10_000),
      BATCH_MAX_FILES: '4',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_POLL_MS: '20',
    });
    await quietEventLoop();
  });
  afterAll(async () => {
    await s?.t.close();
    await Promise.all([fake.close(), receiver.close()]);
  });
  beforeEach(() => {
    fake.reset();
    resetUpstream(s);
  });

  describe('what a job leaves behind', () => {
    it('logs every state change with the analysis id and the id of the request that created it', async () => {
      const accepted = await s.upload(await uniqueJpeg(), { prefer: 'respond-async', requestId: 'job-trail-1' });
      await s.get(`/v1/analyses/${accepted.body.id}`).set('Prefer', 'wait=20').expect(200);

      const trail = parsedLogs(s.t).filter((line) => line.analysisId === accepted.body.id);
      expect(trail.map((line) => line.msg)).toEqual(['analysis accepted', 'analysis running', 'analysis succeeded']);
      for (const line of trail) expect(line.requestId).toBe('job-trail-1');
      // The provider heard the same request id.
      expect(fake.requests[0].requestId).toBe('job-trail-1');
    });

    it('emits signed analysis.succeeded and analysis.failed webhooks, one per analysis', async () => {
      const user = await s.newUser();
      const endpoint = await s.t
        .http()
        .post('/v1/webhooks')
        .set(bearer(user))
        .send({ url: receiver.hookUrl, events: ['analysis.succeeded', 'analysis.failed'] })
        .expect(201);
      receiver.secret = endpoint.body.secret;
      const succeeded = await s.upload(await uniqueJpeg(), {}, user).expect(201);
      fake.failWith(500);
      const failed = await s.upload(await uniqueJpeg(), {}, user);
      expect(failed.status).toBe(502);
      const failedId = (await s.get('/v1/analyses', user).expect(200)).body.items[0].id;

      const deliveries = await eventually(
        () => (receiver.requests.length >= 2 ? receiver.requests : undefined),
        'two webhook deliveries',
        30_000,
      );
      const bodies = deliveries.map(
        (delivery) => JSON.parse(delivery.rawBody) as { type: string; data: { id: string; status: string } },
      );
      expect(deliveries.map((delivery) => delivery.verified)).toEqual([true, true]);
      expect(bodies.map(({ type, data }) => [type, data.id, data.status]).sort()).toEqual(
        [
          ['analysis.failed', failedId, 'failed'],
          ['analysis.succeeded', succeeded.body.id, 'succeeded'],
        ].sort(),
      );
    });
  });

  describe('Prefer: respond-async', () => {
    it('answers 202 at once with Location and Preference-Applied; the job goes on and GET long-polls it', async () => {
      fake.delay(1500, 1);

      const { value: accepted, ms } = await timed(s.upload(await uniqueJpeg(), { prefer: 'respond-async' }));

      expect(accepted.status).toBe(202);
      expect(ms).toBeLessThan(1000);
      expect(accepted.headers.location).toBe(`/v1/analyses/${accepted.body.id}`);
      expect(accepted.headers['preference-applied']).toBe('respond-async');
      expect(accepted.body).toMatchObject({
        status: expect.stringMatching(/^(queued|running)$/),
        result: null,
        error: null,
      });
      expect(accepted.body.completedAt).toBeNull();

      const polled = await s.get(accepted.headers.location).set('Prefer', 'wait=20').expect(200);
      expect(polled.body).toMatchObject({ id: accepted.body.id, status: 'succeeded', cached: false, error: null });
      expect(polled.body.result).toEqual(expect.objectContaining({ summary: expect.any(String) }));
      expect(polled.headers['preference-applied']).toBe('wait=20');
      expect(fake.callCount).toBe(1);
    });

    it('answers an upload already answered with 201 at once, cached and free', async () => {
      const file = await uniqueJpeg();
      await s.upload(file).expect(201);

      const again = await s.upload(file, { prefer: 'respond-async' }).expect(201);

      expect(again.body).toMatchObject({ status: 'succeeded', cached: true, cache: 'exact' });
      expect(again.headers['preference-applied']).toBeUndefined();
      expect(fake.callCount).toBe(1);
    });

    it('keeps a failed job as a failed row with its problem, and gives its quota unit back', async () => {
      const user = await s.newUser();
      fake.failWith(500);

      const accepted = await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }, user).expect(202);
      const polled = await s.get(accepted.headers.location, user).set('Prefer', 'wait=20').expect(200);

      expect(polled.body).toMatchObject({ status: 'failed', result: null });
      expect(polled.body.error).toEqual({
        type: 'urn:argus:problem:upstream-error',
        title: 'Bad Gateway',
        status: 502,
        detail: expect.any(String),
      });
      const me = await s.get('/v1/auth/me', user).expect(200);
      expect(me.body.usage.analysesToday).toBe(0);
    });
  });

  describe('waiting uploads (no respond-async)', () => {
    it('answers 202 with Location when Prefer: wait runs out; the job still succeeds', async () => {
      fake.delay(2500, 1);

      const { value: res, ms } = await timed(s.upload(await uniqueJpeg(), { prefer: 'wait=1' }));

      expect(res.status).toBe(202);
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(2400);
      expect(res.headers.location).toBe(`/v1/analyses/${res.body.id}`);
      expect(res.headers['preference-applied']).toBe('wait=1');
      expect(res.body.status).toMatch(/^(queued|running)$/);
      const done = await s.get(res.headers.location).set('Prefer', 'wait=10').expect(200);
      expect(done.body.status).toBe('succeeded');
    });

    it('answers 201 when the job succeeds within the wait', async () => {
      fake.delay(300, 1);
      const res = await s.upload(await uniqueJpeg(), { prefer: 'wait=10' }).expect(201);
      expect(res.body).toMatchObject({ status: 'succeeded', cached: false });
      expect(res.headers.location).toBe(`/v1/analyses/${res.body.id}`);
    });

    it.each([
      ['a malformed wait', 'wait=soon'],
      ['an unknown preference', 'handling=strict'],
      ['garbage', ',,;=="'],
      ['a wait above 60 (capped)', 'wait=3600'],
    ])('ignores %s and waits as usual', async (_name, prefer) => {
      const res = await s.upload(await uniqueJpeg(), { prefer }).expect(201);
      expect(res.body.status).toBe('succeeded');
    });
  });

  describe('GET /v1/analyses/:id with Prefer: wait', () => {
    it('answers after N seconds with the job still running, and at once for a finished one', async () => {
      fake.delay(3000, 1);
      const accepted = await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }).expect(202);

      const { value: early, ms } = await timed(s.get(accepted.headers.location).set('Prefer', 'wait=1'));

      expect(early.status).toBe(200);
      expect(early.body.status).toMatch(/^(queued|running)$/);
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(2500);
      await s.get(accepted.headers.location).set('Prefer', 'wait=10').expect(200);
      const { ms: finishedMs } = await timed(s.get(accepted.headers.location).set('Prefer', 'wait=10').expect(200));
      expect(finishedMs).toBeLessThan(500);
    });

    it('shares one watch of the job among every request waiting for it', async () => {
      fake.delay(1500, 1);
      const accepted = await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }).expect(202);
      const events = s.t.app.get(JobEvents, { strict: false });
      const before = events.watching;

      const waiting = Array.from({ length: 8 }, () =>
        s
          .get(accepted.headers.location)
          .set('Prefer', 'wait=20')
          .then((res) => res),
      );
      await eventually(() => (events.watching > before ? true : undefined), 'the watch to start');
      expect(events.watching).toBe(before + 1);

      const answers = await Promise.all(waiting);
      expect(answers.map((res) => res.body.status)).toEqual(Array(8).fill('succeeded'));
      expect(events.watching).toBe(before);
    });

    it('is 404 for someone else’s analysis, waiting or not', async () => {
      const accepted = await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }).expect((res) => {
        expect([201, 202]).toContain(res.status);
      });
      const stranger = await s.newUser();
      expectProblem(await s.get(`/v1/analyses/${accepted.body.id}`, stranger).set('Prefer', 'wait=5'), 404);
    });
  });

  describe('POST /v1/analyses/batch', () => {
    const batch = (as = s.user) => s.t.http().post('/v1/analyses/batch').set(bearer(as));

    it('accepts each file on its own: good ones become jobs, a bad one gets its own problem', async () => {
      const cachedFile = await uniqueJpeg();
      await s.upload(cachedFile).expect(201);
      fake.reset();
      const fresh = await uniqueJpeg();

      const res = await batch()
        .field('prompt', 'what is it?')
        .field('metadata', '{"album":"batch"}')
        .attach('files', fresh, { filename: 'a.jpg', contentType: 'image/jpeg' })
        .attach('files', Buffer.from('not an image at all'), { filename: 'b.jpg', contentType: 'image/jpeg' })
        .attach('files', await truncatedJpeg(), { filename: 'c.jpg', contentType: 'image/jpeg' })
        .attach('files', cachedFile, { filename: 'd.jpg', contentType: 'image/jpeg' })
        .expect(202);

      expect(res.body.items).toEqual([
        { index: 0, id: expect.any(String), status: expect.stringMatching(/^(queued|running|succeeded)$/) },
        { index: 1, error: expect.objectContaining({ status: 415, type: 'urn:argus:problem:unsupported-media-type' }) },
        { index: 2, error: expect.objectContaining({ status: 422, type: 'urn:argus:problem:corrupt-image' }) },
        { index: 3, id: expect.any(String), status: expect.stringMatching(/^(queued|running|succeeded)$/) },
      ]);
      const first = await s.get(`/v1/analyses/${res.body.items[0].id}`).set('Prefer', 'wait=10').expect(200);
      expect(first.body).toMatchObject({ status: 'succeeded', prompt: 'what is it?', metadata: { album: 'batch' } });
      const history = await s.get('/v1/analyses?limit=100').expect(200);
      const ids = history.body.items.map((item: { id: string }) => item.id);
      expect(ids).toEqual(expect.arrayContaining([res.body.items[0].id, res.body.items[3].id]));
    });

    it('answers a file over MAX_FILE_SIZE_MB with its own 413 item and accepts the others', async () => {
      const t = await createTestApp(
        { ...GENEROUS_LIMITS, ...openAiEnv(fake, 10_000), MAX_FILE_SIZE_MB: '1' },
        { shareWith: s.t },
      );
      try {
        const user = await registerUser(t);
        const big = Buffer.concat([await uniqueJpeg(), Buffer.alloc(1024 * 1024 + 10)]);
        const res = await t
          .http()
          .post('/v1/analyses/batch')
          .set(bearer(user))
          .attach('files', big, { filename: 'big.jpg', contentType: 'image/jpeg' })
          .attach('files', await uniqueJpeg(), { filename: 'ok.jpg', contentType: 'image/jpeg' })
          .expect(202);
        expect(res.body.items).toEqual([
          { index: 0, error: expect.objectContaining({ status: 413, type: 'urn:argus:problem:payload-too-large' }) },
          { index: 1, id: expect.any(String), status: expect.any(String) },
        ]);
      } finally {
        await t.close();
      }
    });

    it.each([
      ['no file', (req: ReturnType<typeof batch>) => req.field('prompt', 'x')],
      [
        'a file in another part',
        async (req: ReturnType<typeof batch>) => req.attach('file', await uniqueJpeg(), 'a.jpg'),
      ],
      [
        'more than BATCH_MAX_FILES files',
        async (req: ReturnType<typeof batch>) => {
          for (let i = 0; i < 5; i++) req.attach('files', await uniqueJpeg(), `${i}.jpg`);
          return req;
        },
      ],
    ])('refuses a batch with %s: 400, no row', async (_name, build) => {
      const user = await s.newUser();
      const res = await build(batch(user));
      expectProblem(res, 400);
      expect(res.body.errors).toEqual([{ field: 'files', message: expect.stringContaining('1 to 4 images') }]);
      await s.get('/v1/analyses', user).expect(200, { items: [], nextCursor: null });
    });

    it('is 401 without a token', async () => {
      const res = await s.t
        .http()
        .post('/v1/analyses/batch')
        .attach('files', await uniqueJpeg(), 'a.jpg');
      expectProblem(res, 401);
    });
  });

  describe('durable result cache (the analyses table)', () => {
    it('answers from the table when the shared cache lost the answer: no upstream call', async () => {
      const file = await uniqueJpeg();
      const first = await s.upload(file, { prompt: 'durable?' }).expect(201);
      expect(fake.callCount).toBe(1);

      await deleteCachedAnswers(s);
      // A replica that never saw the answer (its near cache is empty) asks after the flush.
      const replica = suiteFor(await createTestApp({ ...s.t.env }, { shareWith: s.t }), s.user);
      try {
        const again = await replica.upload(file, { prompt: 'durable?' }).expect(201);

        expect(again.body).toMatchObject({ cached: true, result: first.body.result, usage: { inputTokens: 0 } });
        expect(fake.callCount).toBe(1);
        const metrics = (await replica.t.http().get('/metrics').expect(200)).text;
        expect(metrics).toMatch(/argus_cache_requests_total\{cache="analysis-table",result="hit"\} 1/);
        // Put back in the shared cache: the next look-up there is a hit again.
        await replica.upload(file, { prompt: 'durable?' }).expect(201);
        const after = (await replica.t.http().get('/metrics').expect(200)).text;
        expect(after).toMatch(/argus_cache_requests_total\{cache="analysis-table",result="hit"\} 1/);
      } finally {
        await replica.t.close();
      }
    });
  });
});

/**
 * What a Redis FLUSHDB does to the answers, for this run only: every cache key under the run's
 * prefix is deleted (SCAN + DEL; other test runs share the server). Embedded, the cache is in the
 * process, and a new app instance starts without it.
 */
async function deleteCachedAnswers(s: AnalysisSuite): Promise<void> {
  const url = s.t.env.REDIS_URL;
  if (!url) return;
  const client = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${s.t.env.REDIS_KEY_PREFIX}cache*`, 'COUNT', 1000);
      if (keys.length > 0) await client.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

describe(`Cache scope (ANALYSIS_CACHE_SCOPE) — ${MODE}`, () => {
  const fake = new OpenAiFake();
  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  it('global (default): another user’s identical upload is answered from cache', async () => {
    const s = await startAnalysisSuite(openAiEnv(fake, 10_000));
    try {
      const file = await uniqueJpeg();
      await s.upload(file).expect(201);
      const other = await s.upload(file, {}, await s.newUser()).expect(201);
      expect(other.body.cached).toBe(true);
      expect(fake.callCount).toBe(1);
    } finally {
      await s.t.close();
    }
  });

  it('user: an upload is answered only from the uploader’s own analyses, so `cached` reveals nobody else’s', async () => {
    const s = await startAnalysisSuite({ ...openAiEnv(fake, 10_000), ANALYSIS_CACHE_SCOPE: 'user' });
    try {
      const file = await uniqueJpeg();
      const mine = await s.upload(file).expect(201);
      const theirs = await s.upload(file, {}, await s.newUser()).expect(201);
      const mineAgain = await s.upload(file).expect(201);

      expect([mine.body.cached, theirs.body.cached, mineAgain.body.cached]).toEqual([false, false, true]);
      expect(fake.callCount).toBe(2);
    } finally {
      await s.t.close();
    }
  });
});

describe(`Batch and the per-user analysis limit (ANALYSIS_RATE_LIMIT_PER_MINUTE=3) — ${MODE}`, () => {
  let s: AnalysisSuite;
  beforeAll(async () => {
    s = await startAnalysisSuite({ AI_PROVIDER: 'local', ANALYSIS_RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await s?.t.close();
  });

  const batchOf = async (files: number, as = s.user) => {
    const req = s.t.http().post('/v1/analyses/batch').set(bearer(as));
    for (let i = 0; i < files; i++) req.attach('files', await uniqueJpeg(), `${i}.jpg`);
    return req;
  };

  it('counts every file: a batch that does not fit is refused whole, with Retry-After', async () => {
    const user = await s.newUser();
    const refused = await batchOf(4, user);
    expectProblem(refused, 429, 'rate-limited');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await s.get('/v1/analyses', user).expect(200, { items: [], nextCursor: null });
  });

  it('draws single uploads and batches from one budget', async () => {
    const user = await s.newUser();
    const accepted = await batchOf(2, user);
    expect(accepted.status).toBe(202);
    expect(accepted.body.items).toHaveLength(2);
    await s.upload(await uniqueJpeg(), {}, user).expect(201);
    expectProblem(await s.upload(await uniqueJpeg(), {}, user), 429, 'rate-limited');
  });
});
