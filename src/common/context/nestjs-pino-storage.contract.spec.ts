import { AsyncLocalStorage } from 'node:async_hooks';
import { Writable } from 'node:stream';
import { PinoLogger } from 'nestjs-pino';
import { storage } from 'nestjs-pino/storage';
import { pino } from 'pino';
import { RequestContext } from './request-context';

/**
 * RequestContext keeps its store in nestjs-pino's own AsyncLocalStorage and nestjs-pino reads a
 * request's logger from that store's `logger` (request-context.ts). Neither is nestjs-pino's
 * documented API: this fails when an upgrade changes either, instead of logs silently losing
 * their request id or going to another app's logger.
 */
function linesOf(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line)),
      );
      callback();
    },
  });
  return { stream, lines };
}

describe('nestjs-pino storage (the contract RequestContext relies on)', () => {
  it('exports one AsyncLocalStorage that RequestContext runs its store in', () => {
    expect(storage).toBeInstanceOf(AsyncLocalStorage);
    RequestContext.run({ requestId: 'req-1' }, () => {
      expect(storage.getStore()).toEqual({ requestId: 'req-1' });
    });
  });

  it("logs a request's lines through the store's `logger`, and out of a request through the root", () => {
    const root = linesOf();
    const request = linesOf();
    const sut = new PinoLogger({ pinoHttp: { logger: pino(root.stream) } });
    const requestLogger = pino(request.stream);

    RequestContext.run({ requestId: 'req-2', logger: requestLogger }, () => sut.info({ msg: 'inside' }));
    sut.info({ msg: 'outside' });

    expect(request.lines.map((line) => line.msg)).toEqual(['inside']);
    expect(root.lines.map((line) => line.msg)).toEqual(['outside']);
  });
});
