import { randomUUID } from 'node:crypto';
import { AbuseIpDbFake } from './fakes/abuseipdb-fake';
import { FeedServer } from './fakes/feed-server';
import { eventually, expectProblem, GOOD_KEY, ipPath, IpSuite, startIpSuite, suiteFor } from './ip-test-kit';
import { registerUser } from './support/auth';
import { servicesMode } from './support/test-app';

const ADMIN_EMAIL = `ip-admin-${randomUUID().slice(0, 8)}@example.com`;
const SECOND_KEY = 'abuseipdb-second-key-rejected-9876wxyz';

/** The IP room's admin routes (docs/api.md, "Admin"): allowlist, feeds, reports, provider keys. */
describe(`IP admin routes — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD_KEY] });
  const feeds = new FeedServer();
  let s: IpSuite;
  let admin: IpSuite;

  beforeAll(async () => {
    await Promise.all([fake.start(), feeds.start()]);
    feeds.serve('list.txt', '45.70.0.0/16\n');
    const feedUrl = feeds.urlOf('list.txt').replace('http://', 'http://reader:s3cret@');
    s = await startIpSuite(
      fake,
      {
        ADMIN_EMAILS: ADMIN_EMAIL,
        IP_FEEDS: `private=${feedUrl}?token=abc`,
        ABUSEIPDB_API_KEY_EXPIRES_AT: new Date(Date.now() + 3 * 86_400_000).toISOString(),
      },
      {},
      [SECOND_KEY, GOOD_KEY],
    );
    const res = await s.t
      .http()
      .post('/v1/auth/register')
      .send({ email: ADMIN_EMAIL, password: 'an admin password 1' });
    expect(res.status).toBe(201);
    admin = suiteFor(s.t, { userId: res.body.user.id, email: ADMIN_EMAIL, accessToken: res.body.accessToken });
  }, 120_000);
  afterAll(async () => {
    await s?.t.close();
    await Promise.all([fake.close(), feeds.close()]);
  });

  it.each([
    ['GET', '/v1/admin/ip-allowlist'],
    ['GET', '/v1/admin/ip-feeds'],
    ['GET', '/v1/admin/providers'],
    ['DELETE', `/v1/admin/ip-reports/${randomUUID()}`],
    ['DELETE', `/v1/admin/ip-allowlist/${randomUUID()}`],
  ])('%s %s is a 404 for a user without the admin role, 401 without a token', async (method, path) => {
    const call = method === 'GET' ? s.t.http().get(path) : s.t.http().delete(path);
    expectProblem(await call.set('Authorization', `Bearer ${s.user.accessToken}`), 404);
    expectProblem(await (method === 'GET' ? s.t.http().get(path) : s.t.http().delete(path)), 401);
  });

  it('adds, lists and deletes allowlist entries; an entry applies at once, with no provider call', async () => {
    fake.setScore('45.71.3.3', { abuseConfidenceScore: 100 });
    expect((await s.get(ipPath('45.71.3.3')).expect(200)).body).toMatchObject({ verdict: 'malicious' });

    const created = await admin
      .post('/v1/admin/ip-allowlist', { value: '45.71.3.9/24', note: 'false positive' })
      .expect(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      value: '45.71.3.0/24',
      note: 'false positive',
      expiresAt: null,
      expired: false,
      createdAt: expect.any(String),
    });
    const calls = fake.callCount;
    expect((await s.get(ipPath('45.71.3.3')).expect(200)).body).toMatchObject({
      verdict: 'clean',
      score: 0,
      allowlisted: true,
    });
    expect(fake.callCount).toBe(calls);

    const list = await admin.get('/v1/admin/ip-allowlist').expect(200);
    expect(list.body).toEqual({ items: [created.body], configured: [] });

    await admin.t
      .http()
      .delete(`/v1/admin/ip-allowlist/${created.body.id.toUpperCase()}`)
      .set('Authorization', `Bearer ${admin.user.accessToken}`)
      .expect(204);
    expect((await s.get(ipPath('45.71.3.3')).expect(200)).body.allowlisted).toBe(false);
    expectProblem(
      await admin.t
        .http()
        .delete(`/v1/admin/ip-allowlist/${created.body.id}`)
        .set('Authorization', `Bearer ${admin.user.accessToken}`),
      404,
    );
  });

  it.each([
    ['not a network', { value: 'example.com' }],
    ['a past expiry', { value: 'AS64500', expiresAt: '2001-01-01T00:00:00Z' }],
    ['an unknown field', { value: 'AS64500', reason: 'x' }],
    ['a control character in the note', { value: 'AS64500', note: 'a\u0000b' }],
  ])('refuses %s with 400', async (_case, body) => {
    expectProblem(await admin.post('/v1/admin/ip-allowlist', body), 400);
  });

  it('deletes a report: it stops counting at once (cached answer dropped)', async () => {
    const ip = '45.72.0.1';
    fake.setScore(ip, { abuseConfidenceScore: 0 });
    const reporters = [s, suiteFor(s.t, await registerUser(s.t))];
    const ids: string[] = [];
    for (const reporter of reporters) {
      ids.push((await reporter.post(ipPath(ip, '/reports'), { categories: [18] }).expect(201)).body.id);
    }
    const before = await s.get(ipPath(ip)).expect(200);
    expect(before.body.sources).toEqual(
      expect.arrayContaining([expect.objectContaining({ provider: 'local', score: 60, totalReports: 2 })]),
    );
    expect((await s.get(ipPath(ip)).expect(200)).body.cached).toBe(true);

    await admin.t
      .http()
      .delete(`/v1/admin/ip-reports/${ids[1]}`)
      .set('Authorization', `Bearer ${admin.user.accessToken}`)
      .expect(204);
    const after = await s.get(ipPath(ip)).expect(200);
    expect(after.body.cached).toBe(false);
    expect(after.body.sources).toEqual(
      expect.arrayContaining([expect.objectContaining({ provider: 'local', score: 30, totalReports: 1 })]),
    );
    expectProblem(
      await admin.t
        .http()
        .delete(`/v1/admin/ip-reports/${ids[1]}`)
        .set('Authorization', `Bearer ${admin.user.accessToken}`),
      404,
    );
    expectProblem(
      await admin.t
        .http()
        .delete('/v1/admin/ip-reports/not-a-uuid')
        .set('Authorization', `Bearer ${admin.user.accessToken}`),
      400,
    );
  });

  it('lists feeds with credentials masked', async () => {
    const res = await eventually(async () => {
      const listed = await admin.get('/v1/admin/ip-feeds').expect(200);
      return listed.body.items[0]?.fetchedAt !== null ? listed : undefined;
    }, 'the first fetch of the feed');
    expect(res.body.items).toEqual([
      {
        name: 'private',
        url: `${feeds.urlOf('list.txt').replace('http://', 'http://***@')}?token=***`,
        entries: 1,
        fetchedAt: expect.any(String),
        ageSeconds: expect.any(Number),
        lastError: null,
      },
    ]);
    expect(JSON.stringify(res.body)).not.toContain('s3cret');
    // The credentials reached the feed as Basic authorization, never in the URL.
    const sent = feeds.requestsFor('list.txt')[0];
    expect(sent.headers.authorization).toBe(`Basic ${Buffer.from('reader:s3cret').toString('base64')}`);
  });

  it('lists provider keys masked, with state, expiry and remaining quota', async () => {
    // A lookup tries key 1 (rejected: benched for an hour) and answers with key 2.
    await s.get(ipPath('45.73.0.1')).expect(200);
    const res = await admin.get('/v1/admin/providers').expect(200);
    expect(res.body.items).toEqual([
      expect.objectContaining({
        provider: 'abuseipdb',
        position: 1,
        key: '…wxyz',
        state: 'benched',
        benchedBecause: 'rejected',
      }),
      expect.objectContaining({ provider: 'abuseipdb', position: 2, key: `…${GOOD_KEY.slice(-4)}`, state: 'expiring' }),
    ]);
    expect(Date.parse(res.body.items[0].benchedUntil)).toBeGreaterThan(Date.now());
    expect(res.body.items[1].expiresAt).toEqual(expect.any(String));
    expect(JSON.stringify(res.body)).not.toContain(GOOD_KEY);
    expect(JSON.stringify(res.body)).not.toContain(SECOND_KEY);
  });
});
