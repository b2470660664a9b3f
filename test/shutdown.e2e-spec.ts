import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { shutdown } from '../src/common/lifecycle/graceful-shutdown';
import { baseUrl, createTestApp } from './support/test-app';

const ROOT = join(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('graceful shutdown (CONTRACT §5)', () => {
  it('lets an in-flight request finish, refuses new connections, and closes', async () => {
    const t = await createTestApp({}, { listen: true, probes: true });
    const url = baseUrl(t);
    const inFlight = fetch(`${url}/v1/probe/slow?ms=800`);
    await waitFor(async () => (t.logs.length > 0 ? true : undefined), 2000);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stopped = shutdown(t.app, 5000);
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ waited: 800 });
    await expect(fetch(`${url}/health/live`)).rejects.toThrow();
    await stopped;
    await t.close().catch(() => undefined);
  });

  it('exits 0 on SIGTERM, and refuses a production start with a short JWT_SECRET naming every bad variable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'argus-main-'));
    const port = await freePort();
    const run = (env: Record<string, string>): ChildProcess =>
      spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    const exitOf = (child: ChildProcess) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });

    try {
      const refused = run({
        NODE_ENV: 'production',
        JWT_SECRET: 'too-short',
        ALLOWED_ORIGINS: '*',
        PORT: String(port),
      });
      const refusal = await exitOf(refused);
      expect(refusal.code).toBe(1);
      expect(refusal.stderr).toContain('JWT_SECRET');
      expect(refusal.stderr).toContain('ALLOWED_ORIGINS');
      expect(refusal.stderr).toContain('DATABASE_URL');
      expect(refusal.stderr).not.toContain('too-short');

      const server = run({ PORT: String(port) });
      const exited = exitOf(server);
      await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return res.status === 200 ? true : undefined;
      }, 45_000);
      server.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
