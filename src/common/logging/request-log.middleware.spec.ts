import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { Request, Response } from 'express';
import type { AppSettings } from '../../config/config.types';
import { createRootLogger } from './logger-options';
import { levelOf, requestLogMiddleware, responseInFlight } from './request-log.middleware';

describe('levelOf', () => {
  it.each([
    ['/v1/ip/1.2.3.4', 200, true, 'info'],
    ['/v1/ip/1.2.3.4', 404, true, 'warn'],
    ['/v1/ip/1.2.3.4', 200, false, 'warn'],
    ['/v1/ip/1.2.3.4', 503, true, 'error'],
    ['/health/live', 200, true, 'debug'],
    ['/metrics', 401, true, 'debug'],
    ['/docs-json', 200, true, 'debug'],
    ['/health/ready', 503, true, 'error'],
    ['/healthcheck', 200, true, 'info'],
  ])('%s %i (completed: %s) → %s', (url, status, completed, level) => {
    expect(levelOf(url, status, completed)).toBe(level);
  });
});

describe('requestLogMiddleware', () => {
  function setUp(level: AppSettings['logLevel'] = 'info') {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        callback();
      },
    });
    const root = createRootLogger({ logLevel: level } as AppSettings, stream);
    return { lines, middleware: requestLogMiddleware(root) };
  }

  function exchange(url: string, status: number, finished = true) {
    const req = {
      id: 'req-1',
      method: 'GET',
      originalUrl: url,
      ip: '203.0.113.5',
      route: { path: '/v1/ip/:address' },
      baseUrl: '',
      user: { id: 'user-1' },
      socket: new EventEmitter(),
    } as unknown as Request;
    const res = Object.assign(new EventEmitter(), { statusCode: status, writableFinished: finished });
    return { req, res: res as unknown as Response & EventEmitter };
  }

  it('knows the response in flight on a connection until it closes (for answers the server cuts short)', () => {
    const { middleware } = setUp();
    const { req, res } = exchange('/v1/ip/8.8.8.8', 200);
    middleware(req, res, () => undefined);
    expect(responseInFlight(req.socket)).toBe(res);
    res.emit('close');
    expect(responseInFlight(req.socket)).toBeUndefined();
  });

  it('writes one line when the response closes, with route, status, time, client and user; never the query', () => {
    const { lines, middleware } = setUp();
    const { req, res } = exchange('/v1/ip/8.8.8.8?token=secret', 200);
    let nextCalls = 0;
    middleware(req, res, () => nextCalls++);
    expect(nextCalls).toBe(1);
    expect(lines).toHaveLength(0);

    res.emit('close');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      msg: 'request completed',
      service: 'argus',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      requestId: 'req-1',
      userId: 'user-1',
      method: 'GET',
      route: '/v1/ip/:address',
      url: '/v1/ip/8.8.8.8',
      status: 200,
      remoteAddress: '203.0.113.5',
    });
    expect(typeof lines[0].responseTime).toBe('number');
    expect(JSON.stringify(lines[0])).not.toContain('secret');
  });

  it('reports a client that went away before the answer as aborted, at warn', () => {
    const { lines, middleware } = setUp();
    const { req, res } = exchange('/v1/ip/8.8.8.8', 200, false);
    middleware(req, res, () => undefined);
    res.emit('close');
    expect(lines[0]).toMatchObject({ level: 'warn', msg: 'request aborted' });
  });

  it('writes nothing for an operational route below its level', () => {
    const { lines, middleware } = setUp('info');
    const { req, res } = exchange('/health/live', 200);
    middleware(req, res, () => undefined);
    res.emit('close');
    expect(lines).toHaveLength(0);
  });
});
