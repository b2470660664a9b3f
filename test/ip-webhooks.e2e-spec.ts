import { AbuseIpDbFake } from './fakes/abuseipdb-fake';
import { WebhookReceiver } from './fakes/webhook-receiver';
import { eventually, GOOD_KEY, ipPath, IpSuite, startIpSuite, suiteFor } from './ip-test-kit';
import { registerUser } from './support/auth';
import { servicesMode } from './support/test-app';

/** `ip.verdict_changed` (docs/api.md, "Webhooks"): to users who looked the address up lately. */
describe(`ip.verdict_changed webhooks — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const fake = new AbuseIpDbFake({ validKeys: [GOOD_KEY] });
  const watcherHook = new WebhookReceiver();
  const bystanderHook = new WebhookReceiver();
  let s: IpSuite;

  beforeAll(async () => {
    await Promise.all([fake.start(), watcherHook.start(), bystanderHook.start()]);
    // No result cache: every lookup is fresh, so the second one sees the new score.
    s = await startIpSuite(fake, { IP_CACHE_TTL: '0', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_MS: '50' });
  }, 120_000);
  afterAll(async () => {
    await s?.t.close();
    await Promise.all([fake.close(), watcherHook.close(), bystanderHook.close()]);
  });

  const subscribe = async (suite: IpSuite, receiver: WebhookReceiver): Promise<void> => {
    const res = await suite.post('/v1/webhooks', { url: receiver.hookUrl, events: ['ip.verdict_changed'] }).expect(201);
    receiver.secret = res.body.secret;
  };

  it('is delivered, signed, to a user who looked the address up when a later lookup changes its verdict', async () => {
    const ip = '45.74.0.1';
    const bystander = suiteFor(s.t, await registerUser(s.t));
    await subscribe(s, watcherHook);
    await subscribe(bystander, bystanderHook);

    fake.setScore(ip, { abuseConfidenceScore: 0 });
    expect((await s.get(ipPath(ip)).expect(200)).body.verdict).toBe('clean');
    // Same verdict again: nothing to say.
    expect((await s.get(ipPath(ip)).expect(200)).body.verdict).toBe('clean');

    fake.setScore(ip, { abuseConfidenceScore: 90 });
    const other = suiteFor(s.t, await registerUser(s.t));
    expect((await other.get(ipPath(ip)).expect(200)).body.verdict).toBe('malicious');

    const delivery = await eventually(() => watcherHook.requests[0], 'the ip.verdict_changed delivery', 60_000);
    expect(delivery.verified).toBe(true);
    expect(JSON.parse(delivery.rawBody)).toEqual({
      type: 'ip.verdict_changed',
      timestamp: expect.any(String),
      data: { ip, previousVerdict: 'clean', verdict: 'malicious', score: 90, checkedAt: expect.any(String) },
    });
    expect(watcherHook.requests).toHaveLength(1);
    // The bystander never looked this address up.
    expect(bystanderHook.requests).toHaveLength(0);
  }, 120_000);
});
