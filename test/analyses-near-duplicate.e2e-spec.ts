import sharp from 'sharp';
import { AnalysisSuite, openAiEnv, quietEventLoop, startAnalysisSuite, suiteFor } from './analyses-test-kit';
import { OpenAiFake } from './fakes/openai-fake';
import { freshSeed } from './fixtures/images';
import { servicesMode } from './support/test-app';
import { seededRandom } from './support/seeded-random';

/**
 * A photo-like scene: shapes of random colours on a gradient, 800 × 600 JPEG; each seed gives a
 * different picture (not only different bytes).
 */
function scene(seed: number): Promise<Buffer> {
  const random = seededRandom(seed);
  const colour = () => `rgb(${[0, 0, 0].map(() => Math.floor(random() * 256)).join(',')})`;
  const shapes = Array.from({ length: 7 }, () => {
    const [x, y, size] = [random() * 800, random() * 600, 60 + random() * 220];
    return random() < 0.5
      ? `<circle cx="${x}" cy="${y}" r="${size / 2}" fill="${colour()}"/>`
      : `<rect x="${x - size / 2}" y="${y - size / 3}" width="${size}" height="${(size * 2) / 3}" fill="${colour()}"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
    <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="#f0f0f0"/></linearGradient></defs>
    <rect width="800" height="600" fill="url(#g)"/>${shapes}</svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

const resizedWebp = (image: Buffer) => sharp(image).resize(400).webp({ quality: 75 }).toBuffer();
const reencodedWebp = (image: Buffer) => sharp(image).webp({ quality: 80 }).toBuffer();
const recompressedJpeg = (image: Buffer) => sharp(image).jpeg({ quality: 55 }).toBuffer();

const ZERO_USAGE = { inputTokens: 0, outputTokens: 0, costUsd: 0 };

/** The copy of the fake's answer every analysis of these tests carries, and its moderation. */
const MODERATED = { decision: 'accept', categories: expect.any(Object), provider: 'openai' };

/** Near-duplicates (docs/api.md, "Near-duplicates"), through the OpenAI provider on its fake. */
describe(`near-duplicates — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new OpenAiFake();

  beforeAll(() => fake.start());
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  describe('global scope', () => {
    let s: AnalysisSuite;

    // One job at a time, so a copy queued behind its original is answered after it (the worker's look-up).
    beforeAll(async () => {
      s = await startAnalysisSuite({ ...openAiEnv(fake, 10_000), AI_CONCURRENCY: '1', AI_DAILY_LIMIT_PER_USER: '2' });
      await quietEventLoop();
    }, 90_000);
    afterAll(() => s?.t.close());

    it('answers a resized, a re-encoded and a re-compressed copy from cache: cache "near", no upstream call', async () => {
      const user = await s.newUser();
      const original = await scene(freshSeed());
      const first = await s.upload(original, {}, user).expect(201);
      expect(first.body).toMatchObject({ cached: false, cache: null, moderation: MODERATED });
      expect(fake.callCount).toBe(1);

      for (const copy of [
        await resizedWebp(original),
        await reencodedWebp(original),
        await recompressedJpeg(original),
      ]) {
        const res = await s.upload(copy, { filename: 'copy.webp' }, user).expect(201);

        expect(res.body).toMatchObject({
          status: 'succeeded',
          cached: true,
          cache: 'near',
          result: first.body.result,
          moderation: first.body.moderation,
          usage: ZERO_USAGE,
        });
        expect(res.body.sha256).not.toBe(first.body.sha256);
        // The copy's own normalised image, not the original's.
        const meta = await sharp(copy).metadata();
        expect(res.body.image).toMatchObject({ width: meta.width, height: meta.height });
      }
      expect(fake.callCount).toBe(1);
      expect(fake.moderationCount).toBe(1);
    });

    it('answers the same bytes again as "exact" — a near copy\'s too', async () => {
      const user = await s.newUser();
      const original = await scene(freshSeed());
      const first = await s.upload(original, {}, user).expect(201);
      const copy = await resizedWebp(original);
      await s.upload(copy, {}, user).expect(201);

      const again = await s.upload(original, {}, user).expect(201);
      const copyAgain = await s.upload(copy, {}, user).expect(201);

      expect(again.body).toMatchObject({ cached: true, cache: 'exact', result: first.body.result });
      expect(copyAgain.body).toMatchObject({ cached: true, cache: 'exact', moderation: first.body.moderation });
      expect(fake.callCount).toBe(1);
    });

    it('never answers a different image from cache: each costs an upstream call', async () => {
      const user = await s.newUser();
      const images = [await scene(freshSeed()), await scene(freshSeed())];

      for (const image of images) {
        const res = await s.upload(image, {}, user).expect(201);
        expect(res.body).toMatchObject({ cached: false, cache: null, moderation: MODERATED });
      }
      expect(fake.callCount).toBe(2);
    });

    it('costs no quota: a user whose quota is spent is still answered from a near copy', async () => {
      const user = await s.newUser();
      const images = [await scene(freshSeed()), await scene(freshSeed())];
      for (const image of images) await s.upload(image, {}, user).expect(201);
      expect(fake.callCount).toBe(2);

      const near = await s.upload(await resizedWebp(images[0]), {}, user).expect(201);
      expect(near.body).toMatchObject({ cached: true, cache: 'near' });

      const refused = await s.upload(await scene(freshSeed()), {}, user);
      expect(refused.status).toBe(429);
      expect(fake.callCount).toBe(2);
    });

    it('answers a copy queued behind its original from the original once it is answered (worker look-up)', async () => {
      const user = await s.newUser();
      const original = await scene(freshSeed());
      fake.delay(4000, 1); // the original's call is still in flight when its copy is accepted
      const queued = await s.upload(original, { prefer: 'respond-async' }, user).expect(202);
      const copy = await s.upload(await reencodedWebp(original), { prefer: 'respond-async' }, user).expect(202);
      expect(copy.body.status).toMatch(/^(queued|running)$/);

      const done = await s.get(`/v1/analyses/${copy.body.id}`, user).set('Prefer', 'wait=20').expect(200);
      const source = await s.get(`/v1/analyses/${queued.body.id}`, user).set('Prefer', 'wait=20').expect(200);

      expect(source.body).toMatchObject({ status: 'succeeded', cached: false, cache: null, moderation: MODERATED });
      expect(done.body).toMatchObject({
        status: 'succeeded',
        cached: true,
        cache: 'near',
        result: source.body.result,
        moderation: source.body.moderation,
        usage: ZERO_USAGE,
      });
      expect(fake.callCount).toBe(1);
    });

    it('asks again for a near copy with a different prompt', async () => {
      const user = await s.newUser();
      const original = await scene(freshSeed());
      await s.upload(original, { prompt: 'Count the circles.' }, user).expect(201);

      const other = await s.upload(await resizedWebp(original), { prompt: 'Name the colours.' }, user).expect(201);
      const same = await s.upload(await reencodedWebp(original), { prompt: 'Count the circles.' }, user).expect(201);

      expect(other.body).toMatchObject({ cached: false, cache: null });
      expect(same.body).toMatchObject({ cached: true, cache: 'near' });
      expect(fake.callCount).toBe(2);
    });
  });

  describe('ANALYSIS_CACHE_SCOPE=user', () => {
    let s: AnalysisSuite;

    beforeAll(async () => {
      s = await startAnalysisSuite({ ...openAiEnv(fake), ANALYSIS_CACHE_SCOPE: 'user' });
      await quietEventLoop();
    }, 90_000);
    afterAll(() => s?.t.close());

    it("never answers user B's near copy from user A's analysis; A's own copy is answered", async () => {
      const original = await scene(freshSeed());
      const userB = await s.newUser();
      const a = await s.upload(original).expect(201);

      const b = await suiteFor(s.t, userB)
        .upload(await resizedWebp(original))
        .expect(201);
      const aCopy = await s.upload(await reencodedWebp(original)).expect(201);

      expect(a.body).toMatchObject({ cached: false, cache: null });
      expect(b.body).toMatchObject({ cached: false, cache: null, moderation: MODERATED });
      expect(aCopy.body).toMatchObject({ cached: true, cache: 'near', result: a.body.result });
      expect(fake.callCount).toBe(2);
    });
  });

  describe('NEAR_DUPLICATE_MAX_DISTANCE=0', () => {
    let s: AnalysisSuite;

    beforeAll(async () => {
      s = await startAnalysisSuite({ ...openAiEnv(fake), NEAR_DUPLICATE_MAX_DISTANCE: '0' });
      await quietEventLoop();
    }, 90_000);
    afterAll(() => s?.t.close());

    it('turns near-duplicates off: a re-encoded copy costs an upstream call', async () => {
      const original = await scene(freshSeed());
      await s.upload(original).expect(201);

      const copy = await s.upload(await reencodedWebp(original)).expect(201);

      expect(copy.body).toMatchObject({ cached: false, cache: null });
      expect(fake.callCount).toBe(2);
    });
  });
});
