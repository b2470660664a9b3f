export type NodeEnv = 'development' | 'production' | 'test';

export interface AppSettings {
  env: NodeEnv;
  isProduction: boolean;
  port: number;
  dataDir: string;
  allowedOrigins: string[];
  /** Number of proxy hops to trust in X-Forwarded-For; undefined = use the socket address. */
  trustProxy?: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  metricsToken?: string;
  shutdownGraceMs: number;
  jsonBodyLimitBytes: number;
  /** REQUEST_TIMEOUT_S in ms: the whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
}

export interface AuthSettings {
  jwtSecret: string;
  /** True when no JWT_SECRET was given and one was generated for this process (development only). */
  jwtSecretGenerated: boolean;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  issuer: string;
  audience: string;
  bcryptCost: number;
  jwksUrl?: string;
  jwksIssuer?: string;
  jwksAudience?: string;
  /** JWT_SECRET_PREVIOUS: still verifies (never signs) during a secret rotation. */
  jwtSecretPrevious?: string;
  /** AUTH_SHARED_*: an identity provider signing HS256 with a shared secret (Supabase legacy JWT secret). */
  sharedSecret?: string;
  sharedIssuer?: string;
  sharedAudience?: string;
  /** ADMIN_EMAILS: accounts with these emails get the `admin` role at registration or login. */
  adminEmails: string[];
}

export interface DatabaseSettings {
  /** postgres://… when set; otherwise the embedded SQLite file below is used. */
  url?: string;
  sqlitePath: string;
  /** `auto`: migrate at start under an advisory lock; `off`: only check that none is pending. */
  migrations: 'auto' | 'off';
  /** PostgreSQL pool size per process (replicas × pool must fit the server's max_connections). */
  poolMax: number;
}

export interface RedisSettings {
  url?: string;
  /** Prefix for every key Argus writes, so several deployments or test runs can share one Redis. */
  keyPrefix: string;
}

export interface ModelPrice {
  /** US dollars per one million input tokens. */
  inputPerMillion: number;
  /** US dollars per one million output tokens. */
  outputPerMillion: number;
}

export interface AiSettings {
  provider: 'openai' | 'local';
  openaiApiKey?: string;
  openaiBaseUrl?: string;
  model: string;
  timeoutMs: number;
  maxImageEdge: number;
  prices: Record<string, ModelPrice>;
}

export interface IpIntelSettings {
  abuseIpDbKeys: string[];
  abuseIpDbBaseUrl: string;
  timeoutMs: number;
  cacheTtlMs: number;
  maliciousAt: number;
  suspiciousAt: number;
  blocklists: string[];
  /** IP_ENRICHMENT_DIR: files here replace the shipped enrichment datasets (same names). */
  enrichmentDir?: string;
  /** IP_FEEDS: `name=url` entries (http, https or file URLs). */
  feeds: IpFeedSetting[];
  /** IP_FEEDS_REFRESH (default 1h, at least 1m). */
  feedsRefreshMs: number;
  /** IP_ALLOWLIST: CIDRs, single addresses and `AS<number>` entries, as written. */
  allowlist: string[];
}

export interface IpFeedSetting {
  name: string;
  url: string;
}

export interface S3Settings {
  bucket?: string;
  endpoint?: string;
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

export interface StorageSettings {
  driver: 'local' | 's3';
  localDir: string;
  s3: S3Settings;
}

export interface LimitSettings {
  ratePerMinute: number;
  authPerMinute: number;
  analysisPerMinute: number;
  ipPerMinute: number;
  aiDailyPerUser: number;
  maxFileSizeBytes: number;
  maxImagePixels: number;
  analysisCacheTtlMs: number;
}

/** Where a process spends itself (docs/api.md, Image analysis "Workers", §6). */
export interface JobSettings {
  /** ARGUS_ROLE: `all` serves the API and runs jobs; `api` only serves; `worker` only runs jobs (and answers health and metrics). */
  role: 'all' | 'api' | 'worker';
  /** AI_CONCURRENCY: jobs (so upstream calls) one worker process runs at once. */
  aiConcurrency: number;
  /** JOB_LEASE_S in ms: a running job whose worker stopped renewing it is taken up again after this. */
  leaseMs: number;
}

export interface AnalysisSettings {
  /** ANALYSIS_SYNC_WAIT_S: how long an upload without `Prefer: respond-async` waits for its job by default. */
  syncWaitS: number;
  /** BATCH_MAX_FILES: files one POST /v1/analyses/batch may carry. */
  batchMaxFiles: number;
  /** ANALYSIS_CACHE_SCOPE: `global` shares answers between users, `user` answers only from the caller's own. */
  cacheScope: 'global' | 'user';
}

/** The near-duplicate cache (docs/api.md, "Near-duplicates"). */
export interface NearDuplicateSettings {
  /** NEAR_DUPLICATE_MAX_DISTANCE: perceptual-hash bits a near-duplicate may differ by; 0 turns it off. */
  maxDistance: number;
}

/** Moderation of every analysis (docs/api.md, "Moderation"). */
export interface ModerationSettings {
  /** MODERATION_PROVIDER: the shipped classifier (`local`) or OpenAI's moderation endpoint. */
  provider: 'local' | 'openai';
  /** MODERATION_REVIEW_AT: a category score at or above this asks for review. */
  reviewAt: number;
  /** MODERATION_REJECT_AT: a category score at or above this rejects. */
  rejectAt: number;
}

export interface SentrySettings {
  dsn?: string;
  environment: string;
  tracesSampleRate: number;
}

export interface ApiKeySettings {
  /** Known expiry per provider (lower-case provider name, e.g. `abuseipdb`, `openai`). */
  expiresAt: Record<string, Date>;
  warnDays: number;
}

export interface WebhookSettings {
  /** WEBHOOK_ALLOW_PRIVATE: deliveries may reach loopback/private/link-local addresses (tests, on-premises). */
  allowPrivate: boolean;
  /** WEBHOOK_SECRET_KEY: the key endpoint secrets are encrypted with; JWT_SECRET (via HKDF) when unset. */
  secretKey?: string;
  /** Internal (tests): how often the delivery poller looks for due deliveries. */
  pollMs: number;
  /** Internal (tests): an attempt that has no 2xx answer within this long failed. */
  timeoutMs: number;
}

/** The whole validated configuration; `ConfigService<AppConfig, true>` reads it with `infer: true`. */
export interface AppConfig {
  app: AppSettings;
  auth: AuthSettings;
  database: DatabaseSettings;
  redis: RedisSettings;
  ai: AiSettings;
  ipIntel: IpIntelSettings;
  storage: StorageSettings;
  limits: LimitSettings;
  jobs: JobSettings;
  analysis: AnalysisSettings;
  sentry: SentrySettings;
  apiKeys: ApiKeySettings;
  webhooks: WebhookSettings;
  moderation: ModerationSettings;
  nearDuplicate: NearDuplicateSettings;
}
