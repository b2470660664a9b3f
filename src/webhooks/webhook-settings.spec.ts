import { buildConfig } from '../config/configuration';

describe('webhook settings', () => {
  it('defaults: private addresses refused, a 10 s attempt timeout, a 1 s poll', () => {
    expect(buildConfig({}).webhooks).toEqual({
      allowPrivate: false,
      secretKey: undefined,
      pollMs: 1000,
      timeoutMs: 10_000,
    });
  });

  it('reads WEBHOOK_ALLOW_PRIVATE, the internal test settings and a dedicated key', () => {
    const key = 'k'.repeat(32);
    expect(
      buildConfig({
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_POLL_MS: '50',
        WEBHOOK_TIMEOUT_MS: '300',
        WEBHOOK_SECRET_KEY: key,
      }).webhooks,
    ).toEqual({ allowPrivate: true, secretKey: key, pollMs: 50, timeoutMs: 300 });
  });

  it('refuses a timeout above 10 s and a short WEBHOOK_SECRET_KEY', () => {
    expect(() => buildConfig({ WEBHOOK_TIMEOUT_MS: '10001' })).toThrow(
      /WEBHOOK_TIMEOUT_MS: must be an integer from 50 to 10000/,
    );
    expect(() => buildConfig({ WEBHOOK_SECRET_KEY: 'short' })).toThrow(/WEBHOOK_SECRET_KEY: must be at least 32 bytes/);
  });
});
