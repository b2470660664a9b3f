import { once } from 'node:events';
import { connect, Socket } from 'node:net';
import { shutdown } from '../src/common/lifecycle/graceful-shutdown';
import { GENEROUS_LIMITS } from './analyses-test-kit';
import { registerUser } from './support/auth';
import { eventually } from './support/net';
import { createTestApp, parsedLogs, TestApp } from './support/test-app';

/**
 * Slow and refused bodies (docs/api.md, "Request hygiene"): a request refused before its body is
 * needed is answered without reading it and the connection closes; headers must arrive within
 * 10 s and a whole request within REQUEST_TIMEOUT_S (2 s here), else the connection is closed with
 * a 408; every such request has its log line.
 */

/** Generous: the server answers in milliseconds; this only stops a broken server from hanging the suite. */
const CLOSED_WITHIN_MS = 10_000;
const MB = 1024 * 1024;

interface RawExchange {
  socket: Socket;
  /** Everything the server sent, and whether it closed the connection, once it has. */
  closed: Promise<{ text: string; closedAfterMs: number }>;
}

/** Opens a raw connection, writes `head`, and collects what comes back until the server closes. */
async function rawRequest(t: TestApp, head: string): Promise<RawExchange> {
  const address = t.app.getHttpServer().address() as { port: number };
  const socket = connect({ host: '127.0.0.1', port: address.port });
  await once(socket, 'connect');
  const started = Date.now();
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<{ text: string; closedAfterMs: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for ${CLOSED_WITHIN_MS} ms`));
    }, CLOSED_WITHIN_MS);
    // 'end' (the server's FIN) is enough: the answer is complete and the server stopped talking.
    const done = () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), closedAfterMs: Date.now() - started });
    };
    socket.once('end', done);
    socket.once('close', done);
  });
  socket.write(head);
  return { socket, closed };
}

function parseResponse(text: string): { status: number; headers: Record<string, string>; body: string } {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const index = line.indexOf(':');
      return [line.slice(0, index).trim().toLowerCase(), line.slice(index + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

describe('Slow and refused bodies', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp({ ...GENEROUS_LIMITS, REQUEST_TIMEOUT_S: '2' }, { listen: true, probes: true });
    token = (await registerUser(t)).accessToken;
  });
  afterAll(() => t.close());

  describe('refused before the body is read', () => {
    it.each([
      ['Content-Length', 'Content-Length: 209715200'],
      ['chunked', 'Transfer-Encoding: chunked'],
    ])('answers an unauthenticated 200 MB upload (%s) with 401 at once and closes', async (_name, length) => {
      const exchange = await rawRequest(
        t,
        'POST /v1/analyses HTTP/1.1\r\nHost: argus\r\nContent-Type: multipart/form-data; boundary=x\r\n' +
          `${length}\r\nX-Request-ID: unread-401\r\n\r\n`,
      );
      // Not one byte of the body is sent: the answer cannot have waited for it.
      const { text } = await exchange.closed;
      const res = parseResponse(text);
      expect(res.status).toBe(401);
      expect(res.headers.connection).toBe('close');
      expect(JSON.parse(res.body)).toMatchObject({ status: 401, requestId: 'unread-401' });
    });

    it('answers an unauthenticated JSON body with 401 before it arrives', async () => {
      const exchange = await rawRequest(
        t,
        'POST /v1/ip/lookup HTTP/1.1\r\nHost: argus\r\nContent-Type: application/json\r\nContent-Length: 50000\r\n\r\n{"ips":[',
      );
      const res = parseResponse((await exchange.closed).text);
      expect(res.status).toBe(401);
      expect(res.headers.connection).toBe('close');
    });

    it('answers 413 from Content-Length alone on a public JSON route, and closes', async () => {
      const exchange = await rawRequest(
        t,
        `POST /v1/auth/refresh HTTP/1.1\r\nHost: argus\r\nContent-Type: application/json\r\nContent-Length: ${10 * MB}\r\n\r\n`,
      );
      const res = parseResponse((await exchange.closed).text);
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
      expect(JSON.parse(res.body).type).toMatch(/payload-too-large$/);
    });

    it('answers 413 from Content-Length alone on an authenticated upload, and closes', async () => {
      const exchange = await rawRequest(
        t,
        `POST /v1/analyses HTTP/1.1\r\nHost: argus\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: multipart/form-data; boundary=x\r\nContent-Length: ${200 * MB}\r\n\r\n`,
      );
      const res = parseResponse((await exchange.closed).text);
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
    });

    it('lets a client that keeps sending read its 401 before the connection closes', async () => {
      const exchange = await rawRequest(
        t,
        `POST /v1/analyses HTTP/1.1\r\nHost: argus\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: ${200 * MB}\r\n\r\n`,
      );
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let answered = false;
      exchange.socket.once('data', () => (answered = true));
      const pump = (): void => {
        while (!answered && !exchange.socket.destroyed) {
          if (!exchange.socket.write(chunk)) {
            exchange.socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
      const res = parseResponse((await exchange.closed).text);
      expect(res.status).toBe(401);
      expect(res.headers.connection).toBe('close');
    });

    it('keeps a connection whose body was read (keep-alive is unaffected)', async () => {
      const body = JSON.stringify({ name: 'x', count: 99 });
      const exchange = await rawRequest(
        t,
        'POST /v1/probe/echo HTTP/1.1\r\nHost: argus\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      const [chunk] = (await once(exchange.socket, 'data')) as [Buffer];
      const res = parseResponse(chunk.toString('utf8'));
      expect(res.status).toBe(400);
      expect(res.headers.connection).toBe('keep-alive');
      expect(exchange.socket.readableEnded).toBe(false);
      exchange.socket.destroy();
    });
  });

  describe('timeouts', () => {
    it('closes a request whose body trickles in past REQUEST_TIMEOUT_S with a 408, and logs it', async () => {
      const exchange = await rawRequest(
        t,
        'POST /v1/probe/echo HTTP/1.1\r\nHost: argus\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n' +
          'X-Request-ID: trickle-1\r\n\r\n{',
      );
      const trickle = setInterval(() => exchange.socket.writable && exchange.socket.write(' '), 200);
      try {
        const res = parseResponse((await exchange.closed).text);
        expect(res.status).toBe(408);
        expect(res.headers.connection).toBe('close');
        expect(res.headers['x-request-id']).toBe('trickle-1');
        expect(JSON.parse(res.body)).toMatchObject({ status: 408, type: expect.stringMatching(/request-timeout$/) });
      } finally {
        clearInterval(trickle);
      }
      const line = await eventually(
        () => parsedLogs(t).find((entry) => entry.requestId === 'trickle-1' && entry.route !== undefined),
        'the request log line',
      );
      expect(line).toMatchObject({ status: 408, method: 'POST', url: '/v1/probe/echo' });
    });

    it('closes a connection whose headers trickle in, with a 408 and a log line', async () => {
      const exchange = await rawRequest(t, 'GET /health/live HTTP/1.1\r\nHost: argus\r\n');
      const trickle = setInterval(() => exchange.socket.writable && exchange.socket.write('X'), 200);
      let text: string;
      try {
        ({ text } = await exchange.closed);
      } finally {
        clearInterval(trickle);
      }
      const res = parseResponse(text);
      expect(res.status).toBe(408);
      expect(res.headers.connection).toBe('close');
      const requestId = res.headers['x-request-id'];
      expect(JSON.parse(res.body)).toMatchObject({ status: 408, requestId });
      expect(parsedLogs(t).find((entry) => entry.requestId === requestId)).toMatchObject({ status: 408 });
    });

    it('still serves a slow answer: the deadline is on receiving the request, not on the response', async () => {
      const res = await t.http().get('/v1/probe/slow?ms=2500');
      expect(res.status).toBe(200);
    });
  });
});

describe('Rate-limited bodies', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ AUTH_RATE_LIMIT_PER_MINUTE: '1' }, { listen: true });
  });
  afterAll(() => t.close());

  it('answers 429 without reading the body, and closes', async () => {
    await eventually(async () => {
      const res = await t.http().post('/v1/auth/login').send({ email: 'a@example.com', password: 'x' });
      return res.status === 429 ? true : undefined;
    }, 'the auth limit to refuse');
    const exchange = await rawRequest(
      t,
      'POST /v1/auth/login HTTP/1.1\r\nHost: argus\r\nContent-Type: application/json\r\nContent-Length: 90000\r\n\r\n',
    );
    const res = parseResponse((await exchange.closed).text);
    expect(res.status).toBe(429);
    expect(res.headers.connection).toBe('close');
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
  });
});

describe('Requests cut at shutdown', () => {
  it('logs a request whose connection is closed when the grace period ends', async () => {
    const t = await createTestApp({}, { listen: true, probes: true });
    try {
      const exchange = await rawRequest(
        t,
        'POST /v1/probe/echo HTTP/1.1\r\nHost: argus\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n' +
          'X-Request-ID: cut-at-shutdown\r\n\r\n{',
      );
      const server = t.app.getHttpServer();
      await eventually(
        () =>
          new Promise<true | undefined>((resolve) =>
            server.getConnections((_e, n) => resolve(n > 0 ? true : undefined)),
          ),
        'the connection to be accepted',
      );
      await shutdown(t.app, 300);
      await exchange.closed;
      const line = await eventually(
        () => parsedLogs(t).find((entry) => entry.requestId === 'cut-at-shutdown' && entry.route !== undefined),
        'the request log line',
      );
      expect(line).toMatchObject({ method: 'POST', url: '/v1/probe/echo' });
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});
