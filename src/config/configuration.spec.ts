import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig, ConfigValidationError } from './configuration';
import { parseDurationMs } from './env-reader';

function problemsOf(env: Record<string, string>): string[] {
  try {
    buildConfig(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('buildConfig', () => {
  it('runs on embedded defaults with an empty environment', () => {
    const sut = buildConfig({});
    expect(sut.app).toMatchObject({ env: 'development', port: 3000, allowedOrigins: [], trustProxy: undefined });
    expect(sut.database.url).toBeUndefined();
    expect(sut.database.sqlitePath).toMatch(/data[/\\]argus\.sqlite$/);
    expect(sut.redis.url).toBeUndefined();
    expect(sut.ai.provider).toBe('local');
    expect(sut.auth).toMatchObject({ jwtSecretGenerated: true, accessTtlSeconds: 900, refreshTtlSeconds: 604_800 });
    expect(sut.auth.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(sut.limits).toMatchObject({
      ratePerMinute: 120,
      authPerMinute: 10,
      analysisPerMinute: 5,
      ipPerMinute: 60,
      aiDailyPerUser: 100,
      maxFileSizeBytes: 10 * 1024 * 1024,
      maxImagePixels: 40_000_000,
    });
    expect(sut.ipIntel).toMatchObject({ cacheTtlMs: 6 * 3_600_000, maliciousAt: 75, suspiciousAt: 25 });
  });

  it('migrates at start by default and sizes the pool at 10; DB_MIGRATIONS and DATABASE_POOL_MAX are bounded', () => {
    expect(buildConfig({}).database).toMatchObject({ migrations: 'auto', poolMax: 10 });
    expect(buildConfig({ DB_MIGRATIONS: 'off', DATABASE_POOL_MAX: '4' }).database).toMatchObject({ migrations: 'off', poolMax: 4 });
    const problems = problemsOf({ DB_MIGRATIONS: 'sometimes', DATABASE_POOL_MAX: '0' });
    expect(problems.some((p) => p.startsWith('DB_MIGRATIONS'))).toBe(true);
    expect(problems.some((p) => p.startsWith('DATABASE_POOL_MAX'))).toBe(true);
  });

  it('accepts JWT_SECRET_PREVIOUS only beside a different JWT_SECRET of at least 32 bytes', () => {
    const current = 'c'.repeat(40);
    const previous = 'p'.repeat(40);
    expect(buildConfig({ JWT_SECRET: current, JWT_SECRET_PREVIOUS: previous }).auth.jwtSecretPrevious).toBe(previous);
    expect(problemsOf({ JWT_SECRET: current, JWT_SECRET_PREVIOUS: 'short' })).toContain(
      'JWT_SECRET_PREVIOUS: must be at least 32 bytes',
    );
    expect(problemsOf({ JWT_SECRET_PREVIOUS: previous })).toContain(
      'JWT_SECRET_PREVIOUS: needs JWT_SECRET (the new secret) set too',
    );
    expect(problemsOf({ JWT_SECRET: current, JWT_SECRET_PREVIOUS: current })).toContain(
      'JWT_SECRET_PREVIOUS: must differ from JWT_SECRET',
    );
  });

  it('takes AUTH_SHARED_* all three or none', () => {
    const shared = {
      AUTH_SHARED_SECRET: 's'.repeat(40),
      AUTH_SHARED_ISSUER: 'https://project.supabase.co/auth/v1',
      AUTH_SHARED_AUDIENCE: 'authenticated',
    };
    expect(buildConfig(shared).auth).toMatchObject({ sharedIssuer: shared.AUTH_SHARED_ISSUER, sharedAudience: 'authenticated' });
    expect(problemsOf({ AUTH_SHARED_SECRET: shared.AUTH_SHARED_SECRET })).toContain(
      'AUTH_SHARED_SECRET, AUTH_SHARED_ISSUER and AUTH_SHARED_AUDIENCE: set all three or none',
    );
  });

  it('bounds a whole request by REQUEST_TIMEOUT_S (default 120 s)', () => {
    expect(buildConfig({}).app.requestTimeoutMs).toBe(120_000);
    expect(buildConfig({ REQUEST_TIMEOUT_S: '5' }).app.requestTimeoutMs).toBe(5_000);
    expect(problemsOf({ REQUEST_TIMEOUT_S: '0' })[0]).toMatch(/^REQUEST_TIMEOUT_S/);
    expect(problemsOf({ REQUEST_TIMEOUT_S: 'soon' })[0]).toMatch(/^REQUEST_TIMEOUT_S/);
  });

  it('chooses openai when a key is set, unless told otherwise', () => {
    expect(buildConfig({ OPENAI_API_KEY: 'sk-x' }).ai.provider).toBe('openai');
    expect(buildConfig({ OPENAI_API_KEY: 'sk-x', AI_PROVIDER: 'local' }).ai.provider).toBe('local');
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      JWT_ACCESS_TTL: 'forever',
      TRUST_PROXY: '-1',
      REDIS_URL: 'http://x',
    });
    expect(problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'JWT_ACCESS_TTL',
      'PORT',
      'REDIS_URL',
      'TRUST_PROXY',
    ]);
  });

  it('refuses the production pitfalls of docs/operations.md, Configuration', () => {
    const problems = problemsOf({ NODE_ENV: 'production', JWT_SECRET: 'short', ALLOWED_ORIGINS: '*' });
    expect(problems.join('\n')).toMatch(/JWT_SECRET: must be at least 32 bytes/);
    expect(problems.join('\n')).toMatch(/ALLOWED_ORIGINS/);
    expect(problems.join('\n')).toMatch(/DATABASE_URL: required in production/);
    expect(problemsOf({ NODE_ENV: 'production' }).join('\n')).toMatch(/JWT_SECRET: required/);
  });

  it('starts in production with a real secret and an explicit embedded database', () => {
    const sut = buildConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32), ALLOW_EMBEDDED_DB: 'true' });
    expect(sut.app.isProduction).toBe(true);
    expect(sut.auth.jwtSecretGenerated).toBe(false);
  });

  it('reads <NAME>_FILE secrets without the trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'argus-config-'));
    const file = join(dir, 'jwt');
    writeFileSync(file, `${'s'.repeat(40)}\n`);
    expect(buildConfig({ JWT_SECRET_FILE: file }).auth.jwtSecret).toBe('s'.repeat(40));
    expect(problemsOf({ JWT_SECRET_FILE: join(dir, 'missing') })).toEqual([
      'JWT_SECRET_FILE: cannot read the file it names',
    ]);
    expect(problemsOf({ JWT_SECRET_FILE: file, JWT_SECRET: 'y'.repeat(40) })[0]).toMatch(/set both/);
    // Other software's *_FILE variables are none of Argus's business.
    expect(problemsOf({ TF_CLI_CONFIG_FILE: join(dir, 'missing') })).toEqual([]);
  });

  it('rejects thresholds in the wrong order and origins that are not origins', () => {
    expect(problemsOf({ IP_VERDICT_SUSPICIOUS_AT: '80' })[0]).toMatch(/IP_VERDICT_SUSPICIOUS_AT/);
    expect(problemsOf({ ALLOWED_ORIGINS: 'https://ok.example, not an origin' })[0]).toMatch(/ALLOWED_ORIGINS/);
  });

  it('reads IP_FEEDS, IP_FEEDS_REFRESH, IP_ALLOWLIST and IP_ENRICHMENT_DIR, refusing bad entries', () => {
    const sut = buildConfig({
      IP_FEEDS: 'firehol=https://feeds.example/l1.netset, tor=file:///etc/argus/tor.txt',
      IP_FEEDS_REFRESH: '30m',
      IP_ALLOWLIST: '192.0.2.0/24, AS15169, 2001:db8::1',
      IP_ENRICHMENT_DIR: '/etc/argus/ip-data',
    }).ipIntel;
    expect(sut).toMatchObject({
      feeds: [
        { name: 'firehol', url: 'https://feeds.example/l1.netset' },
        { name: 'tor', url: 'file:///etc/argus/tor.txt' },
      ],
      feedsRefreshMs: 30 * 60_000,
      allowlist: ['192.0.2.0/24', 'AS15169', '2001:db8::1'],
      enrichmentDir: '/etc/argus/ip-data',
    });
    expect(buildConfig({}).ipIntel).toMatchObject({ feeds: [], feedsRefreshMs: 3_600_000, allowlist: [] });
    expect(problemsOf({ IP_FEEDS: 'no-url' })[0]).toMatch(/IP_FEEDS/);
    expect(problemsOf({ IP_FEEDS: 'x=ftp://example.com/list' })[0]).toMatch(/IP_FEEDS/);
    expect(problemsOf({ IP_FEEDS: 'a=https://a.example,a=https://b.example' })[0]).toMatch(/used twice/);
    expect(problemsOf({ IP_FEEDS_REFRESH: '10s' })[0]).toMatch(/IP_FEEDS_REFRESH/);
    expect(problemsOf({ IP_ALLOWLIST: '10.0.0.0/33' })[0]).toMatch(/IP_ALLOWLIST/);
  });

  it('needs issuer and audience with an external JWKS', () => {
    expect(problemsOf({ AUTH_JWKS_URL: 'https://idp.example/.well-known/jwks.json' })[0]).toMatch(/AUTH_JWKS_ISSUER/);
  });

  it('collects provider key expiries', () => {
    const sut = buildConfig({ ABUSEIPDB_API_KEY_EXPIRES_AT: '2027-01-31' });
    expect(sut.apiKeys.expiresAt.abuseipdb.toISOString()).toBe('2027-01-31T00:00:00.000Z');
    expect(problemsOf({ OPENAI_API_KEY_EXPIRES_AT: 'soon' })[0]).toMatch(/OPENAI_API_KEY_EXPIRES_AT/);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['15m', 900_000],
    ['6h', 21_600_000],
    ['30d', 2_592_000_000],
    ['500ms', 500],
    ['90', 90_000],
  ])('%s → %d ms', (input, expected) => {
    expect(parseDurationMs(input)).toBe(expected);
  });

  it.each(['', '15 minutes', '-5m', '1.5h'])('refuses %p', (input) => {
    expect(parseDurationMs(input)).toBeUndefined();
  });
});
