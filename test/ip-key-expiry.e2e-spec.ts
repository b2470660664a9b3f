import * as Sentry from '@sentry/node';
import { ApiKeyExpiryMonitor } from '../src/health/api-key-expiry.monitor';
import { SentryEvent, SentryFake } from './fakes/sentry-fake';
import { eventually } from './ip-test-kit';
import { createTestApp, parsedLogs, servicesMode, TestApp } from './support/test-app';

const DAY_MS = 86_400_000;

const expiryAlert = (provider: string) => (event: SentryEvent) =>
  event.tags?.provider === provider && /API key/.test(event.message ?? event.logentry?.message ?? '');

describe(`provider API key expiry (issue 5 point 6) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  const sentry = new SentryFake();
  const abuseIpDbExpiry = new Date(Date.now() + 3 * DAY_MS + 3_600_000);
  const openAiExpiry = new Date(Date.now() + 60 * DAY_MS);
  const legacyExpiry = new Date(Date.now() - 2 * DAY_MS);
  let t: TestApp;

  beforeAll(async () => {
    await sentry.start();
    t = await createTestApp({
      SENTRY_DSN: sentry.dsn,
      ABUSEIPDB_API_KEY_EXPIRES_AT: abuseIpDbExpiry.toISOString(),
      OPENAI_API_KEY_EXPIRES_AT: openAiExpiry.toISOString(),
      LEGACY_API_KEY_EXPIRES_AT: legacyExpiry.toISOString(),
    });
  });
  afterAll(async () => {
    await t?.close();
    await sentry.close();
  });

  const alertsFor = (provider: string): SentryEvent[] => sentry.events.filter(expiryAlert(provider));

  it('exports the expiry of every key with a known expiry as a gauge', async () => {
    const metrics = await t.http().get('/metrics').expect(200);
    const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);
    expect(metrics.text).toContain(
      `argus_api_key_expiry_timestamp_seconds{provider="abuseipdb"} ${seconds(abuseIpDbExpiry)}`,
    );
    expect(metrics.text).toContain(
      `argus_api_key_expiry_timestamp_seconds{provider="openai"} ${seconds(openAiExpiry)}`,
    );
    expect(metrics.text).toContain(
      `argus_api_key_expiry_timestamp_seconds{provider="legacy"} ${seconds(legacyExpiry)}`,
    );
  });

  it('warns in the logs and in Sentry when a key expires within API_KEY_EXPIRY_WARN_DAYS', async () => {
    const event = await sentry.waitFor(expiryAlert('abuseipdb'), 10_000);
    expect(event.level).toBe('warning');
    expect(event.message ?? event.logentry?.message).toContain('in 3 days');

    const warning = await eventually(
      () => parsedLogs(t).find((line) => line.msg === 'api key expiry' && line.provider === 'abuseipdb'),
      'the expiry warning in the logs',
    );
    expect(warning).toMatchObject({ state: 'expiring', daysLeft: 3, expiresAt: abuseIpDbExpiry.toISOString() });
  });

  it('reports an expired key at error level', async () => {
    const event = await sentry.waitFor(expiryAlert('legacy'), 10_000);
    expect(event.level).toBe('error');
    expect(event.message ?? event.logentry?.message).toContain('expired');
  });

  it('says nothing about a key far from expiry', async () => {
    await Sentry.flush(2000);
    expect(alertsFor('openai')).toEqual([]);
    expect(parsedLogs(t).some((line) => line.msg === 'api key expiry' && line.provider === 'openai')).toBe(false);
  });

  it('sends the Sentry message once per UTC day, however often the hourly check runs', async () => {
    await sentry.waitFor(expiryAlert('abuseipdb'), 10_000);
    const monitor = t.app.get(ApiKeyExpiryMonitor);
    await monitor.check();
    await monitor.check();
    await Sentry.flush(2000);
    expect(alertsFor('abuseipdb')).toHaveLength(1);
    // The log warning repeats with every check.
    const warnings = parsedLogs(t).filter((line) => line.msg === 'api key expiry' && line.provider === 'abuseipdb');
    expect(warnings.length).toBeGreaterThanOrEqual(3);
  });

  (servicesMode ? it : it.skip)('sends it once per day for the whole deployment, not per replica', async () => {
    await sentry.waitFor(expiryAlert('abuseipdb'), 10_000);
    const replica = await createTestApp(t.env, { shareWith: t });
    try {
      await replica.app.get(ApiKeyExpiryMonitor).check();
      await Sentry.flush(2000);
      expect(alertsFor('abuseipdb')).toHaveLength(1);
    } finally {
      await replica.close();
    }
  });

  it('sends it again on a later day', async () => {
    const monitor = t.app.get(ApiKeyExpiryMonitor);
    await monitor.check(new Date(Date.now() + DAY_MS));
    await Sentry.flush(2000);
    expect(alertsFor('abuseipdb')).toHaveLength(2);
  });
});
