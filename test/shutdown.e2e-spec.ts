import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shutdown } from '../src/common/lifecycle/graceful-shutdown';
import { freePort, waitFor } from './support/net';
import { baseUrl, createTestApp } from './support/test-app';

const ROOT = join(__dirname, '..');

describe('graceful shutdown (CONTRACT §5)', () => {
  it('lets an in-flight request finish, refuses new connections, and closes', async () => {
    const t = await createTestApp({}, { listen: true, probes: true });
    const url = baseUrl(t);
    const arrived = once(t.app.getHttpServer(), 'request');
    const inFlight = fetch(`${url}/v1/probe/slow?ms=800`);
    await arrived;

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
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200,
        45_000,
        'the server to be ready',
      );
      server.kill('SIGTERM');
      expect((await exited).code).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
