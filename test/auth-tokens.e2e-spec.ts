import { randomUUID } from 'node:crypto';
import { decode, sign, SignOptions, verify } from 'jsonwebtoken';
import request from 'supertest';
import { createTestApp, servicesMode, TestApp } from './support/test-app';

/**
 * Bearer headers, token lifetimes, secret rotation and email spellings (docs/api.md, "Accounts and
 * tokens"): the hardening items 9, 13 and 14 of issue 16.
 */
const PASSWORD = 'correct horse battery staple';
const SECRET = 'test-secret-that-is-long-enough-for-production-use-0123456789';
const PREVIOUS_SECRET = 'the-previous-secret-that-is-also-long-enough-9876543210';
const METRICS_TOKEN = 'scrape-token-0123456789';
const TTL_SECONDS = 900;

const SUITE_ENV = {
  JWT_SECRET: SECRET,
  JWT_SECRET_PREVIOUS: PREVIOUS_SECRET,
  JWT_ACCESS_TTL: `${TTL_SECONDS}s`,
  METRICS_TOKEN,
  AUTH_RATE_LIMIT_PER_MINUTE: '10000',
  RATE_LIMIT_PER_MINUTE: '10000',
};

interface Session {
  user: { id: string; email: string | null; role: string };
  accessToken: string;
}

function expectUnauthorized(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe('Bearer');
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
}

const now = () => Math.floor(Date.now() / 1000);

describe(`access tokens and emails — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  let t: TestApp;
  let session: Session;

  beforeAll(async () => {
    t = await createTestApp(SUITE_ENV);
    const res = await t
      .http()
      .post('/v1/auth/register')
      .send({ email: `tokens-${randomUUID()}@example.com`, password: PASSWORD });
    expect(res.status).toBe(201);
    session = res.body as Session;
  });
  afterAll(() => t?.close());

  const meWith = (authorization: string) => t.http().get('/v1/auth/me').set('Authorization', authorization);
  const metricsWith = (authorization: string) => t.http().get('/metrics').set('Authorization', authorization);

  /** A token signed like Argus's own, for `session`'s user, with `claims`/`options` changed. */
  function forge(claims: Record<string, unknown> = {}, options: SignOptions = {}, secret = SECRET): string {
    return sign({ email: session.user.email, role: 'user', ...claims }, secret, {
      algorithm: 'HS256',
      issuer: 'argus',
      audience: 'argus-api',
      subject: session.user.id,
      jwtid: randomUUID(),
      ...options,
    });
  }

  describe('one strict bearer parser for the API and /metrics (item 13)', () => {
    it('accepts the scheme in any case, on the API and on /metrics alike', async () => {
      for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
        await meWith(`${scheme} ${session.accessToken}`).expect(200);
        await metricsWith(`${scheme} ${METRICS_TOKEN}`).expect(200);
      }
    });

    it.each([
      ['a second word after the token', (token: string) => `Bearer ${token} junk`],
      ['two tokens', (token: string) => `Bearer ${token} ${token}`],
      ['a comma-separated second token', (token: string) => `Bearer ${token},${token}`],
      ['no token', () => 'Bearer'],
      ['no space after the scheme', (token: string) => `Bearer${token}`],
      ['another scheme', (token: string) => `Basic ${token}`],
      ['a token with a character outside token68', (token: string) => `Bearer ${token}\u00e9`],
    ])('refuses %s on the API and on /metrics', async (_case, header) => {
      expectUnauthorized(await meWith(header(session.accessToken)));
      expectUnauthorized(await metricsWith(header(METRICS_TOKEN)));
    });

    it('does not let a remembered token through with junk after it', async () => {
      await meWith(`Bearer ${session.accessToken}`).expect(200);
      expectUnauthorized(await meWith(`Bearer ${session.accessToken} junk`));
    });
  });

  describe('lifetime cap (item 14)', () => {
    it('accepts a lifetime of JWT_ACCESS_TTL plus 60 s of skew', async () => {
      await meWith(`Bearer ${forge({}, { expiresIn: TTL_SECONDS + 60 })}`).expect(200);
    });

    it.each([
      ['one second over the cap', TTL_SECONDS + 61],
      ['an hour', 3600],
      ['ten years', 10 * 365 * 86_400],
    ])('refuses a correctly signed token living %s', async (_case, lifetime) => {
      expectUnauthorized(await meWith(`Bearer ${forge({}, { expiresIn: lifetime })}`));
    });

    it('measures the lifetime from iat, so a backdated iat does not help', async () => {
      const iat = now() - 7200;
      expectUnauthorized(await meWith(`Bearer ${forge({ iat, exp: now() + 300 })}`));
    });
  });

  describe('secret rotation (JWT_SECRET_PREVIOUS)', () => {
    it('signs new tokens with JWT_SECRET', () => {
      expect(() => verify(session.accessToken, SECRET, { algorithms: ['HS256'] })).not.toThrow();
    });

    it('still accepts a token signed with the previous secret', async () => {
      await meWith(`Bearer ${forge({}, { expiresIn: 300 }, PREVIOUS_SECRET)}`).expect(200);
    });

    it('refuses a key id that names neither secret, whatever signed the token', async () => {
      expectUnauthorized(await meWith(`Bearer ${forge({}, { expiresIn: 300, keyid: 'unknown-kid' }, PREVIOUS_SECRET)}`));
    });

    it('refuses a token signed with any other secret', async () => {
      expectUnauthorized(await meWith(`Bearer ${forge({}, { expiresIn: 300 }, 'yet-another-secret-long-enough-000000000000')}`));
    });

    it('applies the lifetime cap to previous-secret tokens too', async () => {
      expectUnauthorized(await meWith(`Bearer ${forge({}, { expiresIn: 3600 }, PREVIOUS_SECRET)}`));
    });
  });

  describe('email spellings (item 9)', () => {
    const register = (email: string) => t.http().post('/v1/auth/register').send({ email, password: PASSWORD });
    const login = (email: string) => t.http().post('/v1/auth/login').send({ email, password: PASSWORD });
    /** Full-width forms (U+FF01–U+FF5E) of an ASCII string: NFKC folds them back. */
    const fullWidth = (ascii: string) =>
      [...ascii].map((c) => (c >= '!' && c <= '~' ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c)).join('');

    it('folds full-width, ligature and case variants into one account', async () => {
      const local = `fold-${randomUUID().slice(0, 8)}`;
      const ascii = `${local}@example.com`;

      const first = await register(fullWidth(ascii));
      expect(first.status).toBe(201);
      expect(first.body.user.email).toBe(ascii);

      expect((await register(ascii)).status).toBe(409);
      expect((await register(ascii.toUpperCase())).status).toBe(409);
      expect((await register(`${local}@example.co\u2098`)).status).toBe(409);

      const viaFullWidth = await login(fullWidth(ascii));
      expect(viaFullWidth.status).toBe(200);
      expect(viaFullWidth.body.user.id).toBe(first.body.user.id);
    });

    it('folds a ligature (U+FB01 "ﬁ") into its letters', async () => {
      const local = `li-${randomUUID().slice(0, 8)}`;
      const created = await register(`${local}-\ufb01@example.com`);
      expect(created.status).toBe(201);
      expect(created.body.user.email).toBe(`${local}-fi@example.com`);
      expect((await register(`${local}-fi@example.com`)).status).toBe(409);
    });

    it.each([
      ['a zero-width space (U+200B)', '\u200b'],
      ['a zero-width joiner (U+200D)', '\u200d'],
      ['a soft hyphen (U+00AD)', '\u00ad'],
      ['a word joiner (U+2060)', '\u2060'],
      ['a right-to-left mark (U+200F)', '\u200f'],
      ['a right-to-left override (U+202E)', '\u202e'],
    ])('refuses an email containing %s with 400, on register and login', async (_case, invisible) => {
      const email = `invisible${invisible}-${randomUUID().slice(0, 8)}@example.com`;
      const registered = await register(email);
      expect(registered.status).toBe(400);
      expect(registered.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'email' })]));
      expect((await login(email)).status).toBe(400);
    });

    it('keeps the trimmed, lower-cased account for surrounding spaces', async () => {
      const email = `trim-${randomUUID().slice(0, 8)}@example.com`;
      const created = await register(`  ${email.toUpperCase()}  `);
      expect(created.status).toBe(201);
      expect(created.body.user.email).toBe(email);
      expect(decode(created.body.accessToken, { json: true })?.email).toBe(email);
    });
  });
});
