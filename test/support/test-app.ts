import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Client } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app.setup';
import { ProbeModule } from './probe.module';

export interface TestApp {
  app: NestExpressApplication;
  /** supertest against the in-process server. */
  http: () => ReturnType<typeof request>;
  /** Every JSON log line the app wrote. */
  logs: string[];
  /** The environment the app was built with (after test defaults). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Listen on 127.0.0.1 on an ephemeral port (for fakes calling back, browsers, several instances). */
  listen?: boolean;
  /** Reuse another test app's database and Redis prefix (two replicas of one deployment). */
  shareWith?: TestApp;
  /** Mount the probe routes (deliberate failures, slow answers) used by the foundation tests. */
  probes?: boolean;
}

/** True when CI gave real services: the suite then runs against PostgreSQL and Redis. */
export const servicesMode = Boolean(process.env.TEST_DATABASE_URL);

/**
 * Builds the app through the same `createApp`/`configureApp` as main.ts, on its own data: a fresh
 * SQLite file in a temp dir, or — with TEST_DATABASE_URL/TEST_REDIS_URL — a freshly created
 * PostgreSQL database and a unique Redis key prefix, so runs never see each other's data.
 */
export async function createTestApp(
  overrides: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const owned = options.shareWith ? undefined : await createIsolatedResources();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'debug',
    BCRYPT_COST: '10',
    JWT_SECRET: 'test-secret-that-is-long-enough-for-production-use-0123456789',
    ...(options.shareWith ? pickShared(options.shareWith.env) : owned!.env),
    ...overrides,
  };
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });

  const app = await createApp(env, { logStream, extraModules: options.probes ? [ProbeModule] : [] });
  if (options.listen) await app.listen(0, '127.0.0.1');
  else await app.init();

  return {
    app,
    http: () => request(app.getHttpServer()),
    logs,
    env,
    close: async () => {
      await app.close();
      await owned?.dispose();
    },
  };
}

/** The base URL of a test app started with `listen: true`. */
export function baseUrl(testApp: TestApp): string {
  const address = testApp.app.getHttpServer().address();
  if (!address || typeof address === 'string') throw new Error('test app is not listening');
  return `http://127.0.0.1:${address.port}`;
}

function pickShared(env: Record<string, string>): Record<string, string> {
  const keys = ['DATA_DIR', 'DATABASE_URL', 'REDIS_URL', 'REDIS_KEY_PREFIX'];
  return Object.fromEntries(keys.filter((key) => env[key] !== undefined).map((key) => [key, env[key]]));
}

interface IsolatedResources {
  env: Record<string, string>;
  dispose(): Promise<void>;
}

async function createIsolatedResources(): Promise<IsolatedResources> {
  const suffix = randomBytes(6).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-test-'));
  const env: Record<string, string> = { DATA_DIR: dataDir };
  let databaseName: string | undefined;

  const adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl) {
    databaseName = `argus_test_${suffix}`;
    await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE ${databaseName}`));
    const url = new URL(adminUrl);
    url.pathname = `/${databaseName}`;
    env.DATABASE_URL = url.toString();
  }
  if (process.env.TEST_REDIS_URL) {
    env.REDIS_URL = process.env.TEST_REDIS_URL;
    env.REDIS_KEY_PREFIX = `argus-test-${suffix}:`;
  }

  return {
    env,
    dispose: async () => {
      if (adminUrl && databaseName) {
        await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`));
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function withAdmin<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Parses the captured JSON log lines. */
export function parsedLogs(testApp: TestApp): Record<string, unknown>[] {
  return testApp.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
}
