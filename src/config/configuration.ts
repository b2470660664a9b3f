import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import * as ipaddr from 'ipaddr.js';
import { AppConfig, AppSettings, ModelPrice, NodeEnv } from './config.types';
import { EnvReader, RawEnv } from './env-reader';

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** US dollars per million tokens for models we know; OPENAI_PRICE_* override the configured model. */
const KNOWN_MODEL_PRICES: Record<string, ModelPrice> = {
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
};

/**
 * Builds the whole typed configuration from an environment, validating every variable of
 * docs/operations.md, Configuration. Throws one ConfigValidationError naming every bad variable.
 */
export function buildConfig(env: RawEnv): AppConfig {
  const read = new EnvReader(env);
  read.checkNotBothSet(Object.keys(env).filter((name) => env[`${name}_FILE`] !== undefined));

  const app = readApp(read);
  const config: AppConfig = {
    app,
    auth: readAuth(read, app),
    database: {
      url: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
      sqlitePath: join(app.dataDir, 'argus.sqlite'),
      migrations: read.oneOf('DB_MIGRATIONS', ['auto', 'off'] as const, 'auto'),
      poolMax: read.int('DATABASE_POOL_MAX', 10, 1, 200),
    },
    redis: {
      url: read.url('REDIS_URL', ['redis:', 'rediss:']),
      keyPrefix: read.string('REDIS_KEY_PREFIX', 'argus:'),
    },
    ai: readAi(read),
    ipIntel: {
      abuseIpDbKeys: read.list('ABUSEIPDB_API_KEY'),
      abuseIpDbBaseUrl: (
        read.url('ABUSEIPDB_BASE_URL', ['https:', 'http:']) ?? 'https://api.abuseipdb.com/api/v2'
      ).replace(/\/+$/, ''),
      timeoutMs: read.int('IP_PROVIDER_TIMEOUT_MS', 5000, 100, 60_000),
      cacheTtlMs: read.durationMs('IP_CACHE_TTL', '6h', 0, 30 * DAY),
      maliciousAt: read.int('IP_VERDICT_MALICIOUS_AT', 75, 1, 100),
      suspiciousAt: read.int('IP_VERDICT_SUSPICIOUS_AT', 25, 1, 100),
      blocklists: read.list('IP_BLOCKLISTS').map((path) => resolve(path)),
      ...readIpIntelligence(read),
    },
    storage: {
      driver: read.oneOf('STORAGE_DRIVER', ['local', 's3'] as const, 'local'),
      localDir: join(app.dataDir, 'images'),
      s3: {
        bucket: read.string('S3_BUCKET'),
        endpoint: read.url('S3_ENDPOINT', ['https:', 'http:']),
        region: read.string('S3_REGION'),
        accessKeyId: read.string('S3_ACCESS_KEY_ID'),
        secretAccessKey: read.string('S3_SECRET_ACCESS_KEY'),
        forcePathStyle: read.bool('S3_FORCE_PATH_STYLE', false),
      },
    },
    limits: {
      ratePerMinute: read.int('RATE_LIMIT_PER_MINUTE', 120, 1, 1_000_000),
      authPerMinute: read.int('AUTH_RATE_LIMIT_PER_MINUTE', 10, 1, 1_000_000),
      analysisPerMinute: read.int('ANALYSIS_RATE_LIMIT_PER_MINUTE', 5, 1, 1_000_000),
      ipPerMinute: read.int('IP_RATE_LIMIT_PER_MINUTE', 60, 1, 1_000_000),
      aiDailyPerUser: read.int('AI_DAILY_LIMIT_PER_USER', 100, 0, 1_000_000),
      maxFileSizeBytes: read.int('MAX_FILE_SIZE_MB', 10, 1, 100) * 1024 * 1024,
      maxImagePixels: read.int('MAX_IMAGE_PIXELS', 40_000_000, 1, 1_000_000_000),
      analysisCacheTtlMs: read.durationMs('ANALYSIS_CACHE_TTL', '30d', 0, 365 * DAY),
    },
    jobs: {
      role: read.oneOf('ARGUS_ROLE', ['all', 'api', 'worker'] as const, 'all'),
      aiConcurrency: read.int('AI_CONCURRENCY', 4, 1, 256),
      leaseMs: read.int('JOB_LEASE_S', 60, 2, 3600) * 1000,
    },
    analysis: {
      syncWaitS: read.int('ANALYSIS_SYNC_WAIT_S', 30, 0, 60),
      batchMaxFiles: read.int('BATCH_MAX_FILES', 20, 1, 100),
      cacheScope: read.oneOf('ANALYSIS_CACHE_SCOPE', ['global', 'user'] as const, 'global'),
    },
    sentry: {
      dsn: read.url('SENTRY_DSN', ['https:', 'http:']),
      environment: read.string('SENTRY_ENVIRONMENT', app.env),
      tracesSampleRate: read.number('SENTRY_TRACES_SAMPLE_RATE', 0, 0, 1),
    },
    apiKeys: {
      expiresAt: readKeyExpiries(read, env),
      warnDays: read.int('API_KEY_EXPIRY_WARN_DAYS', 14, 0, 365),
    },
    webhooks: readWebhooks(read),
    moderation: {
      provider: read.oneOf('MODERATION_PROVIDER', ['local', 'openai'] as const, 'local'),
      reviewAt: read.number('MODERATION_REVIEW_AT', 0.5, 0, 1),
      rejectAt: read.number('MODERATION_REJECT_AT', 0.9, 0, 1),
    },
    nearDuplicate: { maxDistance: read.int('NEAR_DUPLICATE_MAX_DISTANCE', 6, 0, 12) },
  };

  checkCrossFieldRules(read, config, env);
  if (read.errors.length > 0) throw new ConfigValidationError(read.errors);
  return config;
}

function readApp(read: EnvReader): AppSettings {
  const env = read.oneOf<NodeEnv>('NODE_ENV', ['development', 'production', 'test'], 'development');
  return {
    env,
    isProduction: env === 'production',
    port: read.int('PORT', 3000, 0, 65_535),
    dataDir: resolve(read.string('DATA_DIR', './data')),
    allowedOrigins: read.list('ALLOWED_ORIGINS'),
    trustProxy: read.optionalInt('TRUST_PROXY', 1, 10),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    metricsToken: read.string('METRICS_TOKEN'),
    shutdownGraceMs: read.int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    jsonBodyLimitBytes: read.int('JSON_BODY_LIMIT_KB', 100, 1, 10_240) * 1024,
    requestTimeoutMs: read.int('REQUEST_TIMEOUT_S', 120, 1, 3600) * 1000,
  };
}

function readAuth(read: EnvReader, app: AppSettings): AppConfig['auth'] {
  const secret = read.string('JWT_SECRET');
  if (secret !== undefined && Buffer.byteLength(secret) < 32) {
    read.fail('JWT_SECRET: must be at least 32 bytes');
  }
  if (secret === undefined && app.isProduction) {
    read.fail('JWT_SECRET: required in production (at least 32 bytes)');
  }
  return {
    jwtSecret: secret ?? randomBytes(48).toString('base64url'),
    jwtSecretGenerated: secret === undefined,
    accessTtlSeconds: read.durationMs('JWT_ACCESS_TTL', '15m', 10_000, DAY) / 1000,
    refreshTtlSeconds: read.durationMs('JWT_REFRESH_TTL', '7d', MINUTE, 365 * DAY) / 1000,
    issuer: read.string('JWT_ISSUER', 'argus'),
    audience: read.string('JWT_AUDIENCE', 'argus-api'),
    bcryptCost: read.int('BCRYPT_COST', 12, 10, 15),
    jwksUrl: read.url('AUTH_JWKS_URL', ['https:', 'http:']),
    jwksIssuer: read.string('AUTH_JWKS_ISSUER'),
    jwksAudience: read.string('AUTH_JWKS_AUDIENCE'),
    jwtSecretPrevious: readPreviousSecret(read, secret),
    sharedSecret: read.string('AUTH_SHARED_SECRET'),
    sharedIssuer: read.string('AUTH_SHARED_ISSUER'),
    sharedAudience: read.string('AUTH_SHARED_AUDIENCE'),
    adminEmails: read.list('ADMIN_EMAILS'),
  };
}

function readPreviousSecret(read: EnvReader, current: string | undefined): string | undefined {
  const previous = read.string('JWT_SECRET_PREVIOUS');
  if (previous === undefined) return undefined;
  if (Buffer.byteLength(previous) < 32) read.fail('JWT_SECRET_PREVIOUS: must be at least 32 bytes');
  if (current === undefined) read.fail('JWT_SECRET_PREVIOUS: needs JWT_SECRET (the new secret) set too');
  if (previous === current) read.fail('JWT_SECRET_PREVIOUS: must differ from JWT_SECRET');
  return previous;
}

function readAi(read: EnvReader): AppConfig['ai'] {
  const apiKey = read.string('OPENAI_API_KEY');
  const model = read.string('OPENAI_MODEL', 'gpt-4o-mini');
  const known = KNOWN_MODEL_PRICES[model] ?? { inputPerMillion: 0, outputPerMillion: 0 };
  return {
    provider: read.oneOf('AI_PROVIDER', ['openai', 'local'] as const, apiKey ? 'openai' : 'local'),
    openaiApiKey: apiKey,
    openaiBaseUrl: read.url('OPENAI_BASE_URL', ['https:', 'http:']),
    model,
    timeoutMs: read.int('OPENAI_TIMEOUT_MS', 30_000, 1000, 600_000),
    maxImageEdge: read.int('AI_MAX_IMAGE_EDGE', 1568, 64, 8192),
    prices: {
      ...KNOWN_MODEL_PRICES,
      [model]: {
        inputPerMillion: read.number('OPENAI_PRICE_INPUT_PER_MTOK', known.inputPerMillion, 0, 10_000),
        outputPerMillion: read.number('OPENAI_PRICE_OUTPUT_PER_MTOK', known.outputPerMillion, 0, 10_000),
      },
    },
  };
}

function readWebhooks(read: EnvReader): AppConfig['webhooks'] {
  const secretKey = read.string('WEBHOOK_SECRET_KEY');
  if (secretKey !== undefined && Buffer.byteLength(secretKey) < 32) {
    read.fail('WEBHOOK_SECRET_KEY: must be at least 32 bytes');
  }
  return {
    allowPrivate: read.bool('WEBHOOK_ALLOW_PRIVATE', false),
    secretKey,
    pollMs: read.int('WEBHOOK_POLL_MS', 1000, 10, 60_000),
    timeoutMs: read.int('WEBHOOK_TIMEOUT_MS', 10_000, 50, 10_000),
  };
}

const FEED_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** IP_ENRICHMENT_DIR, IP_FEEDS, IP_FEEDS_REFRESH, IP_ALLOWLIST (docs/operations.md, "IP feeds"). */
function readIpIntelligence(
  read: EnvReader,
): Pick<AppConfig['ipIntel'], 'enrichmentDir' | 'feeds' | 'feedsRefreshMs' | 'allowlist'> {
  const enrichmentDir = read.string('IP_ENRICHMENT_DIR');
  const feeds: Array<{ name: string; url: string }> = [];
  for (const entry of read.list('IP_FEEDS')) {
    const equals = entry.indexOf('=');
    const name = entry.slice(0, equals).trim();
    const url = entry.slice(equals + 1).trim();
    if (equals <= 0 || !FEED_NAME.test(name) || !isFeedUrl(url)) {
      read.fail('IP_FEEDS: each entry must be name=url (name: a-z, 0-9, _ or -; url: http, https or file)');
    } else if (feeds.some((feed) => feed.name === name)) {
      read.fail(`IP_FEEDS: the feed name "${name}" is used twice`);
    } else {
      feeds.push({ name, url });
    }
  }
  const allowlist = read.list('IP_ALLOWLIST');
  const bad = allowlist.filter((value) => !/^AS\d{1,10}$/i.test(value) && !isCidrOrAddress(value));
  if (bad.length > 0) read.fail('IP_ALLOWLIST: each entry must be a CIDR, an IP address or AS<number>');
  return {
    enrichmentDir: enrichmentDir === undefined ? undefined : resolve(enrichmentDir),
    feeds,
    feedsRefreshMs: read.durationMs('IP_FEEDS_REFRESH', '1h', 60_000, 7 * DAY),
    allowlist: allowlist.filter((value) => !bad.includes(value)),
  };
}

function isFeedUrl(value: string): boolean {
  try {
    return ['http:', 'https:', 'file:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

function isCidrOrAddress(value: string): boolean {
  return value.includes('/') ? ipaddr.isValidCIDR(value) : ipaddr.isValid(value);
}

function readKeyExpiries(read: EnvReader, env: RawEnv): Record<string, Date> {
  const expiries: Record<string, Date> = {};
  for (const name of Object.keys(env)) {
    const match = /^([A-Z0-9]+)_API_KEY_EXPIRES_AT$/.exec(name);
    const date = match ? read.date(name) : undefined;
    if (match && date) expiries[match[1].toLowerCase()] = date;
  }
  return expiries;
}

function checkCrossFieldRules(read: EnvReader, config: AppConfig, env: RawEnv): void {
  const { app, ai, ipIntel, storage } = config;
  if (ipIntel.suspiciousAt >= ipIntel.maliciousAt) {
    read.fail('IP_VERDICT_SUSPICIOUS_AT: must be lower than IP_VERDICT_MALICIOUS_AT');
  }
  if (ai.provider === 'openai' && !ai.openaiApiKey) {
    read.fail('OPENAI_API_KEY: required when AI_PROVIDER=openai');
  }
  if (config.moderation.provider === 'openai' && !ai.openaiApiKey) {
    read.fail('OPENAI_API_KEY: required when MODERATION_PROVIDER=openai');
  }
  if (config.moderation.reviewAt > config.moderation.rejectAt) {
    read.fail('MODERATION_REVIEW_AT: must not be higher than MODERATION_REJECT_AT');
  }
  if (config.auth.jwksUrl && (!config.auth.jwksIssuer || !config.auth.jwksAudience)) {
    read.fail('AUTH_JWKS_ISSUER and AUTH_JWKS_AUDIENCE: required when AUTH_JWKS_URL is set');
  }
  checkSharedSecretProvider(read, config.auth);
  if (storage.driver === 's3' && !storage.s3.bucket) {
    read.fail('S3_BUCKET: required when STORAGE_DRIVER=s3');
  }
  if (app.isProduction) {
    if (app.allowedOrigins.includes('*')) {
      read.fail('ALLOWED_ORIGINS: "*" is refused in production; list the allowed origins');
    }
    const allowEmbedded = read.bool('ALLOW_EMBEDDED_DB', false);
    if (!config.database.url && !allowEmbedded) {
      read.fail('DATABASE_URL: required in production (or set ALLOW_EMBEDDED_DB=true)');
    }
  }
  if (env.ALLOWED_ORIGINS && app.allowedOrigins.some((origin) => origin !== '*' && !isOrigin(origin))) {
    read.fail('ALLOWED_ORIGINS: each entry must be an origin such as https://app.example.com');
  }
}

/** AUTH_SHARED_*: all three or none; a secret as long as JWT_SECRET's; an issuer of its own. */
function checkSharedSecretProvider(read: EnvReader, auth: AppConfig['auth']): void {
  const { sharedSecret, sharedIssuer, sharedAudience } = auth;
  if (sharedSecret === undefined && sharedIssuer === undefined && sharedAudience === undefined) return;
  if (!sharedSecret || !sharedIssuer || !sharedAudience) {
    read.fail('AUTH_SHARED_SECRET, AUTH_SHARED_ISSUER and AUTH_SHARED_AUDIENCE: set all three or none');
    return;
  }
  if (Buffer.byteLength(sharedSecret) < 32) read.fail('AUTH_SHARED_SECRET: must be at least 32 bytes');
  if (sharedSecret === auth.jwtSecret || sharedSecret === auth.jwtSecretPrevious) {
    read.fail('AUTH_SHARED_SECRET: must differ from JWT_SECRET and JWT_SECRET_PREVIOUS');
  }
  if (sharedIssuer === auth.issuer || sharedIssuer === auth.jwksIssuer) {
    read.fail('AUTH_SHARED_ISSUER: must differ from JWT_ISSUER and AUTH_JWKS_ISSUER');
  }
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}
