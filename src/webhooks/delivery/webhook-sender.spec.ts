import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { RESPONSE_KEEP_BYTES, sendDelivery } from './webhook-sender';

const LOOPBACK = { address: '127.0.0.1', family: 4 as const };

describe('sendDelivery (one attempt, on a real socket)', () => {
  let server: Server;
  let port: number;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  const seen: Array<{ host?: string; path?: string; body: string; headers: IncomingMessage['headers'] }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          host: req.headers.host,
          path: req.url,
          body: Buffer.concat(chunks).toString(),
          headers: req.headers,
        });
        handler(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  function send(overrides: Partial<Parameters<typeof sendDelivery>[0]> = {}) {
    return sendDelivery({
      // A name no resolver knows: the request can only arrive through the pinned address.
      url: new URL(`http://hooks.invalid:${port}/hook?x=1`),
      pinned: LOOPBACK,
      headers: { 'webhook-id': 'msg_1' },
      body: '{"type":"webhook.test"}',
      timeoutMs: 2000,
      ...overrides,
    });
  }

  it('connects to the pinned address, keeping the URL host for Host, and reports a 2xx as success', async () => {
    handler = (_req, res) => res.writeHead(202).end('accepted');

    await expect(send()).resolves.toEqual({
      ok: true,
      statusCode: 202,
      error: null,
      response: 'accepted',
      aborted: false,
    });
    expect(seen).toEqual([
      expect.objectContaining({ host: `hooks.invalid:${port}`, path: '/hook?x=1', body: '{"type":"webhook.test"}' }),
    ]);
    expect(seen[0].headers).toMatchObject({ 'webhook-id': 'msg_1', 'content-type': 'application/json' });
  });

  it('treats a redirect as a failure and does not follow it', async () => {
    handler = (_req, res) => res.writeHead(301, { location: `http://127.0.0.1:${port}/elsewhere` }).end();

    const outcome = await send();
    expect(outcome).toMatchObject({ ok: false, statusCode: 301 });
    expect(outcome.error).toBe(`HTTP 301: redirects are not followed (Location: http://127.0.0.1:${port}/elsewhere)`);
    expect(seen).toHaveLength(1);
  });

  it('reports other statuses as failures', async () => {
    handler = (_req, res) => res.writeHead(500).end('boom');
    await expect(send()).resolves.toMatchObject({ ok: false, statusCode: 500, error: 'HTTP 500', response: 'boom' });
  });

  it('keeps at most 1 KiB of the answer and stops reading there', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('a'.repeat(4096));
      // Never ends: the attempt must not wait for the rest.
    };
    const started = Date.now();
    const outcome = await send();
    expect(outcome.ok).toBe(true);
    expect(outcome.response).toBe('a'.repeat(RESPONSE_KEEP_BYTES));
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('cuts an attempt that gets no answer within the timeout', async () => {
    handler = () => undefined;
    const started = Date.now();
    await expect(send({ timeoutMs: 200 })).resolves.toEqual({
      ok: false,
      statusCode: null,
      error: 'no answer within 200 ms',
      response: null,
      aborted: false,
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    await expect(send({ url: new URL(`http://hooks.invalid:${closedPort}/`) })).resolves.toMatchObject({
      ok: false,
      statusCode: null,
      error: 'request failed: ECONNREFUSED',
    });
  });

  it('gives an aborted attempt back as aborted', async () => {
    handler = () => undefined;
    const controller = new AbortController();
    const pending = send({ signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).resolves.toMatchObject({ ok: false, aborted: true });
  });
});
