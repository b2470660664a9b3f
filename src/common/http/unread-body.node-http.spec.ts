import { once } from 'node:events';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { closeIfBodyUnread } from './unread-body';

/**
 * Pins what closeIfBodyUnread relies on in Node's http server (lib/_http_server.js): a response
 * with `Connection: close` ends its socket through `socket.destroySoon()`, which it replaces with a
 * lingering close. An upgrade that stops calling it fails here, not in production.
 */
describe('closeIfBodyUnread on node:http', () => {
  let server: Server;
  let destroySoonCalls = 0;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      closeIfBodyUnread(req, res);
      const lingering = req.socket.destroySoon.bind(req.socket);
      req.socket.destroySoon = () => {
        destroySoonCalls++;
        lingering();
      };
      res.statusCode = 401;
      res.end('refused');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('answers a client that is still sending, says Connection: close, and ends the connection', async () => {
    const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    await once(socket, 'connect');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n');
    const chunk = Buffer.alloc(16 * 1024, 0x41);
    const pump = setInterval(() => socket.writable && socket.write(chunk), 1);
    try {
      await once(socket, 'end');
    } finally {
      clearInterval(pump);
      socket.destroy();
    }

    const text = Buffer.concat(received).toString('utf8');
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(text.endsWith('refused')).toBe(true);
    expect(destroySoonCalls).toBe(1);
  });
});
