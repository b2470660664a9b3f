import { Logger } from '@nestjs/common';
import { S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
import { StoredImageRef } from './image-store';
import { S3ImageStore, s3ClientConfig } from './s3-image.store';

interface StoredObject {
  body: Buffer;
  contentType: string;
  cacheControl?: string;
}

interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
}

/** Enough of the S3 REST API (path-style PUT/GET/HEAD/DELETE object) to exercise the real SDK. */
class TinyS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly requests: SeenRequest[] = [];
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://s3.invalid').pathname);
    const body = await buffer(req);
    this.requests.push({ method: req.method ?? '', path, headers: req.headers });
    const object = this.objects.get(path);
    switch (req.method) {
      case 'PUT':
        this.objects.set(path, {
          body,
          contentType: String(req.headers['content-type']),
          cacheControl: req.headers['cache-control'],
        });
        res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
        return;
      case 'HEAD':
        if (!object) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': object.contentType, 'content-length': object.body.length }).end();
        return;
      case 'GET':
        if (!object) return this.noSuchKey(res, path);
        res.writeHead(200, { 'content-type': object.contentType, 'content-length': object.body.length }).end(object.body);
        return;
      case 'DELETE':
        this.objects.delete(path);
        res.writeHead(204).end();
        return;
      default:
        res.writeHead(405).end();
    }
  }

  private noSuchKey(res: ServerResponse, path: string): void {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>' +
      `<Message>The specified key does not exist.</Message><Key>${path}</Key><RequestId>1</RequestId></Error>`;
    res.writeHead(404, { 'content-type': 'application/xml' }).end(xml);
  }
}

const SHA = createHash('sha256').update('an image').digest('hex');
const REF: StoredImageRef = { sha256: SHA, format: 'jpeg' };
const KEY_PATH = `/argus-images/images/${SHA.slice(0, 2)}/${SHA.slice(2, 4)}/${SHA}.jpg`;

beforeAll(() => Logger.overrideLogger(false));

describe('S3ImageStore (real SDK against a tiny S3 server)', () => {
  const s3 = new TinyS3();
  let sut: S3ImageStore;

  beforeAll(async () => {
    const endpoint = await s3.start();
    sut = S3ImageStore.fromSettings({
      bucket: 'argus-images',
      endpoint,
      region: 'eu-central-1',
      accessKeyId: 'AKIAEXAMPLEKEY',
      secretAccessKey: 'example-secret',
      forcePathStyle: true,
    });
  });
  afterAll(async () => {
    sut.destroy();
    await s3.stop();
  });
  beforeEach(() => {
    s3.objects.clear();
    s3.requests.length = 0;
  });

  it('puts a new image at images/ab/cd/<sha>.jpg, path-style, signed, with its content type', async () => {
    await expect(sut.put(REF, Buffer.from('jpeg bytes'))).resolves.toBe(true);

    expect(s3.requests.map(({ method, path }) => `${method} ${path}`)).toEqual([`HEAD ${KEY_PATH}`, `PUT ${KEY_PATH}`]);
    const put = s3.requests[1];
    expect(put.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEKEY\/\d{8}\/eu-central-1\/s3\//);
    expect(s3.objects.get(KEY_PATH)).toEqual({
      body: Buffer.from('jpeg bytes'),
      contentType: 'image/jpeg',
      cacheControl: 'private, max-age=31536000, immutable',
    });
  });

  it('does not upload an image that is already stored', async () => {
    await sut.put(REF, Buffer.from('jpeg bytes'));
    s3.requests.length = 0;

    await expect(sut.put(REF, Buffer.from('jpeg bytes'))).resolves.toBe(false);

    expect(s3.requests.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('gets a stored image as a stream, and undefined for a missing key (NoSuchKey)', async () => {
    await sut.put({ ...REF, format: 'webp' }, Buffer.from('webp bytes'));

    const stored = await sut.get({ ...REF, format: 'webp' });
    expect(stored).toMatchObject({ contentType: 'image/webp', size: 10 });
    await expect(buffer(stored!.stream)).resolves.toEqual(Buffer.from('webp bytes'));

    await expect(sut.get(REF)).resolves.toBeUndefined();
  });

  it('answers exists from HEAD (404 → false)', async () => {
    await expect(sut.exists(REF)).resolves.toBe(false);
    await sut.put(REF, Buffer.from('x'));
    await expect(sut.exists(REF)).resolves.toBe(true);
  });

  it('deletes with DELETE on the same key', async () => {
    await sut.put(REF, Buffer.from('x'));

    await sut.delete(REF);

    expect(s3.requests.at(-1)).toMatchObject({ method: 'DELETE', path: KEY_PATH });
    expect(s3.objects.size).toBe(0);
  });

  it('maps the settings to the client: default region, no static credentials when none are given', async () => {
    const config = s3ClientConfig({ forcePathStyle: false });
    expect(config).toMatchObject({ region: 'us-east-1', forcePathStyle: false, credentials: undefined, maxAttempts: 3 });
    const client = new S3Client(config);
    await expect(client.config.region()).resolves.toBe('us-east-1');
    client.destroy();
  });
});
