import { createServer } from 'node:http';

// (a) The floor: Node's http module answering the same JSON as Argus (BENCH_BODY, captured from it).
const body = process.env.BENCH_BODY ?? JSON.stringify({ ip: '8.8.8.8', verdict: 'clean', score: 0, cached: true });
createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
