import {
  AnalysisSuite,
  eventually,
  expectProblem,
  openAiEnv,
  quietEventLoop,
  startAnalysisSuite,
} from './analyses-test-kit';
import { OPENAI_FAKE_DEFAULT_MODERATION, OpenAiFake } from './fakes/openai-fake';
import { uniqueJpeg } from './fixtures/images';
import { servicesMode } from './support/test-app';

interface ModerationBody {
  input: Array<{ type: string; image_url: { url: string } }>;
  model: string;
}

/** Moderation of every analysis (docs/api.md, "Moderation"). */
describe(`moderation — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new OpenAiFake();

  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  describe('MODERATION_PROVIDER=openai', () => {
    let s: AnalysisSuite;

    // Thresholds away from the defaults (0.5 / 0.9), so the decisions below prove they are read.
    beforeAll(async () => {
      s = await startAnalysisSuite({
        ...openAiEnv(fake),
        MODERATION_PROVIDER: 'openai',
        MODERATION_REVIEW_AT: '0.4',
        MODERATION_REJECT_AT: '0.8',
      });
      await quietEventLoop();
    }, 90_000);
    afterAll(() => s?.t.close());

    it('sends the normalised image to /v1/moderations and answers its scores with the decision', async () => {
      const res = await s.upload(await uniqueJpeg(), { requestId: 'moderation-1' }).expect(201);

      expect(res.body.moderation).toEqual({
        decision: 'accept',
        categories: { ...OPENAI_FAKE_DEFAULT_MODERATION },
        provider: 'openai',
      });
      expect(fake.moderationCount).toBe(1);
      const [call] = fake.moderationCalls;
      const body = call.body as ModerationBody;
      expect(body.model).toBe('omni-moderation-latest');
      expect(body.input).toEqual([
        { type: 'image_url', image_url: { url: expect.stringMatching(/^data:image\/jpeg;base64,/) } },
      ]);
      expect(call.hasImageDataUrl).toBe(true);
      expect(call.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
      expect(call.requestId).toBe('moderation-1');
      // After the provider, on the same image.
      expect(fake.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/moderations']);
    });

    it.each([
      [{ sexual: 0.39, violence: 0.1 }, 'accept'],
      [{ sexual: 0.45, violence: 0.1 }, 'review'],
      [{ sexual: 0.1, violence: 0.85 }, 'reject'],
    ])('applies MODERATION_REVIEW_AT / MODERATION_REJECT_AT: %j → %s', async (scores, decision) => {
      fake.moderateWith(scores, 1);

      const res = await s.upload(await uniqueJpeg()).expect(201);

      expect(res.body.moderation).toEqual({ decision, categories: scores, provider: 'openai' });
      const stored = await s.get(`/v1/analyses/${res.body.id}`).expect(200);
      expect(stored.body.moderation).toEqual(res.body.moderation);
    });

    it('copies the moderation to a cached answer without asking again', async () => {
      fake.moderateWith({ sexual: 0.5, violence: 0 }, 1);
      const image = await uniqueJpeg();
      const first = await s.upload(image).expect(201);

      const again = await s.upload(image).expect(201);

      expect(again.body).toMatchObject({ cached: true, cache: 'exact', moderation: first.body.moderation });
      expect(first.body.moderation.decision).toBe('review');
      expect(fake.moderationCount).toBe(1);
      expect(fake.callCount).toBe(1);
    });

    it('fails the analysis when the moderation endpoint refuses it (502, failed row, quota given back)', async () => {
      fake.failModerationWith(400, 1);
      const user = await s.newUser();

      const res = await s.upload(await uniqueJpeg(), {}, user);

      expectProblem(res, 502);
      const history = await s.get('/v1/analyses', user).expect(200);
      expect(history.body.items).toEqual([
        expect.objectContaining({ status: 'failed', result: null, moderation: null }),
      ]);
      const me = await s.get('/v1/auth/me', user).expect(200);
      expect(me.body.usage).toMatchObject({ analysesToday: 0 });
    });

    it('carries moderation null while the job is queued', async () => {
      const res = await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }).expect(202);

      expect(res.body).toMatchObject({ status: 'queued', moderation: null, cache: null });
      const done = await s.get(`/v1/analyses/${res.body.id}`).set('Prefer', 'wait=20').expect(200);
      expect(done.body.moderation).toMatchObject({ decision: 'accept', provider: 'openai' });
    });
  });

  describe('MODERATION_PROVIDER=local (the shipped classifier)', () => {
    let s: AnalysisSuite;

    // The vision provider is the fake (fast); only the NSFW classifier loads, once for this app.
    beforeAll(async () => {
      s = await startAnalysisSuite({ ...openAiEnv(fake), MODERATION_PROVIDER: 'local' });
      await quietEventLoop();
    }, 90_000);
    afterAll(() => s?.t.close());

    it('moderates with the local classifier whatever the vision provider: accept, its categories, no moderation call', async () => {
      // The first analysis loads the model (seconds on a busy machine): wait for the job, not the upload.
      const accepted = await s.upload(await uniqueJpeg(), { prefer: 'respond-async' }).expect(202);
      const res = await eventually(
        async () => {
          const polled = await s.get(`/v1/analyses/${accepted.body.id}`).set('Prefer', 'wait=60').expect(200);
          return polled.body.status === 'queued' || polled.body.status === 'running' ? undefined : polled;
        },
        'the locally moderated analysis',
        140_000,
      );

      expect(res.body).toMatchObject({ status: 'succeeded', provider: 'openai' });
      expect(res.body.moderation).toEqual({
        decision: 'accept',
        categories: { sexual: expect.any(Number), suggestive: expect.any(Number) },
        provider: 'local',
      });
      expect(res.body.moderation.categories.sexual).toBeLessThan(0.5);
      expect(fake.moderationCount).toBe(0);
    }, 150_000);
  });
});
