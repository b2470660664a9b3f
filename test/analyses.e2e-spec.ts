import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  AnalysisSuite,
  binaryParser,
  expectProblem,
  startAnalysisSuite,
} from './analyses-test-kit';
import {
  freshSeed,
  hasGpsIfd,
  photoWithGps,
  pngBomb,
  SVG,
  TEXT,
  truncatedJpeg,
  uniqueJpeg,
  uniquePng,
} from './fixtures/images';
import { LOCAL_MODEL } from '../src/analysis/providers/local-vision.provider';
import { bearer } from './support/auth';
import { baseUrl, servicesMode } from './support/test-app';

const MB = 1024 * 1024;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Where the local ImageStore keeps an image (DATA_DIR/images/ab/cd/<sha>.<ext>). */
function storedImagePath(s: AnalysisSuite, sha: string, extension = 'jpg'): string {
  return join(s.t.env.DATA_DIR, 'images', sha.slice(0, 2), sha.slice(2, 4), `${sha}.${extension}`);
}

describe(`Image analysis, local provider (docs/api.md, Image analysis) — ${servicesMode ? 'PostgreSQL + Redis' : 'embedded SQLite'}`, () => {
  let s: AnalysisSuite;

  beforeAll(async () => {
    s = await startAnalysisSuite({ AI_PROVIDER: 'local' }, { listen: true });
  });
  afterAll(async () => {
    await s?.t.close();
  });

  describe('POST /v1/analyses', () => {
    it('analyses an image and answers every contract field', async () => {
      const file = await uniqueJpeg(freshSeed(), 320, 200);

      const res = await s
        .upload(file, { prompt: '  what colours?  ', metadata: '{"album":"holidays","rating":4.5,"favourite":true}' })
        .expect(201);

      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        status: 'succeeded',
        sha256: sha256(file),
        cached: false,
        cache: null,
        provider: 'local',
        model: LOCAL_MODEL,
        prompt: 'what colours?',
        result: { summary: expect.any(String), tags: expect.any(Array), details: expect.any(Object) },
        moderation: {
          decision: 'accept',
          categories: expect.objectContaining({ sexual: expect.any(Number) }),
          provider: 'local',
        },
        error: null,
        image: { format: 'jpeg', width: 320, height: 200, bytes: expect.any(Number) },
        metadata: { album: 'holidays', rating: 4.5, favourite: true },
        usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 },
        createdAt: expect.any(String),
        completedAt: expect.any(String),
      });
      expect(res.headers.location).toBe(`/v1/analyses/${res.body.id}`);
      expect(res.body.result.summary.length).toBeGreaterThan(10);
      expect(res.body.result.details).toMatchObject({ width: 320, height: 200, promptIgnored: true });
      expect(Date.parse(res.body.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    });

    it('answers an identical upload from cache: cached, same result, its own history row', async () => {
      const file = await uniqueJpeg();
      const first = await s.upload(file).expect(201);
      const second = await s.upload(file).expect(201);

      expect(second.body).toMatchObject({ cached: true, cache: 'exact', sha256: first.body.sha256, result: first.body.result });
      expect(second.body.id).not.toBe(first.body.id);
    });

    it('treats a different prompt as a different question (cache miss)', async () => {
      const file = await uniqueJpeg();
      await s.upload(file, { prompt: 'cats?' }).expect(201);
      const other = await s.upload(file, { prompt: 'dogs?' }).expect(201);
      expect(other.body.cached).toBe(false);
    });

    it('applies EXIF orientation and strips GPS and all other metadata before storing', async () => {
      const photo = await photoWithGps();
      const before = await sharp(photo).metadata();
      expect(before).toMatchObject({ width: 300, height: 200, orientation: 6 });
      expect(hasGpsIfd(before.exif)).toBe(true);

      const created = await s.upload(photo).expect(201);
      expect(created.body.image).toMatchObject({ format: 'jpeg', width: 200, height: 300 });

      const image = await s.get(`/v1/analyses/${created.body.id}/image`).buffer(true).parse(binaryParser).expect(200);
      expect(image.headers['content-type']).toBe('image/jpeg');
      expect(image.body).toBeInstanceOf(Buffer);
      expect(image.body.length).toBe(created.body.image.bytes);
      const after = await sharp(image.body as Buffer).metadata();
      expect(after).toMatchObject({ format: 'jpeg', width: 200, height: 300 });
      expect(after.exif).toBeUndefined();
      expect(after.orientation).toBeUndefined();
      expect(after.icc).toBeUndefined();
      expect(after.xmp).toBeUndefined();
      expect((image.body as Buffer).includes('SecretCam')).toBe(false);
      expect((image.body as Buffer).includes('Jane Doe')).toBe(false);
    });

    it('shrinks a large image to AI_MAX_IMAGE_EDGE', async () => {
      const large = await sharp({ create: { width: 3000, height: 1500, channels: 3, background: '#446688' } })
        .jpeg()
        .toBuffer();
      const res = await s.upload(large).expect(201);
      expect(res.body.image).toMatchObject({ width: 1568, height: 784 });
    });

    it('keeps transparency as WebP', async () => {
      const transparent = await sharp({ create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .composite([{ input: { create: { width: 20, height: 40, channels: 4, background: '#ff0000ff' } }, left: 0, top: 0 }])
        .png()
        .toBuffer();
      const res = await s.upload(transparent, { filename: 'logo.png', contentType: 'image/png' }).expect(201);
      expect(res.body.image.format).toBe('webp');
      const image = await s.get(`/v1/analyses/${res.body.id}/image`).buffer(true).parse(binaryParser).expect(200);
      expect(image.headers['content-type']).toBe('image/webp');
      expect(existsSync(storedImagePath(s, res.body.sha256, 'webp'))).toBe(true);
    });

    describe('the type is decided from the bytes', () => {
      it('accepts PNG bytes sent as image/gif named notes.txt', async () => {
        const png = await uniquePng(freshSeed(), 50, 30);
        const res = await s.upload(png, { filename: 'notes.txt', contentType: 'image/gif' }).expect(201);
        expect(res.body.image).toMatchObject({ width: 50, height: 30 });
      });

      it.each([
        ['a text file named photo.jpg sent as image/jpeg', TEXT, 'photo.jpg', 'image/jpeg'],
        ['an SVG', SVG, 'drawing.svg', 'image/svg+xml'],
        ['an SVG named photo.png sent as image/png', SVG, 'photo.png', 'image/png'],
        ['a PDF', Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'), 'scan.jpg', 'image/jpeg'],
        ['an empty file', Buffer.alloc(0), 'empty.jpg', 'image/jpeg'],
      ])('refuses %s with 415', async (_name, bytes, filename, contentType) => {
        const res = await s.upload(bytes, { filename, contentType });
        expectProblem(res, 415, 'unsupported-media-type');
      });

      it('refuses TIFF with 415', async () => {
        const tiff = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).tiff().toBuffer();
        expectProblem(await s.upload(tiff, { filename: 'a.tif', contentType: 'image/tiff' }), 415, 'unsupported-media-type');
      });
    });

    it('refuses a pixel bomb with 422 from its header, and the process stays healthy', async () => {
      const bomb = pngBomb(30_000, 30_000);
      expect(bomb.length).toBeLessThan(2048);

      const started = Date.now();
      const res = await s.upload(bomb, { filename: 'bomb.png', contentType: 'image/png' });

      expectProblem(res, 422, 'image-too-large');
      expect(Date.now() - started).toBeLessThan(5000);
      await s.t.http().get('/health/live').expect(200);
      await s.upload(await uniqueJpeg()).expect(201);
    });

    it('refuses a corrupt image with 422', async () => {
      expectProblem(await s.upload(await truncatedJpeg()), 422, 'corrupt-image');
    });

    it('writes no history row and stores nothing for a refused upload', async () => {
      const user = await s.newUser();
      const corrupt = await truncatedJpeg();
      await s.upload(corrupt, {}, user).expect(422);
      await s.upload(TEXT, {}, user).expect(415);

      const list = await s.get('/v1/analyses', user).expect(200);
      expect(list.body).toEqual({ items: [], nextCursor: null });
      expect(existsSync(storedImagePath(s, sha256(corrupt)))).toBe(false);
    });

    describe('fields', () => {
      it('requires the file: 400 with errors[file]', async () => {
        const res = await s.t.http().post('/v1/analyses').set(bearer(s.user)).field('prompt', 'hi');
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([{ field: 'file', message: expect.stringContaining('required') }]);
      });

      it('requires multipart: a JSON body is 400', async () => {
        const res = await s.t.http().post('/v1/analyses').set(bearer(s.user)).send({ prompt: 'hi' });
        expectProblem(res, 400);
        expect(res.body.errors[0].field).toBe('file');
      });

      it('accepts a prompt of 1000 characters and refuses 1001', async () => {
        const file = await uniqueJpeg();
        await s.upload(file, { prompt: 'x'.repeat(1000) }).expect(201);
        const res = await s.upload(file, { prompt: 'x'.repeat(1001) });
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([{ field: 'prompt', message: expect.stringContaining('1000') }]);
      });

      it('refuses control characters in the prompt', async () => {
        const res = await s.upload(await uniqueJpeg(), { prompt: 'look\u0000here' });
        expectProblem(res, 400);
        expect(res.body.errors[0].field).toBe('prompt');
      });

      it.each([
        ['not JSON', '{album: holidays}', 'JSON object'],
        ['a JSON array', '["a"]', 'JSON object'],
        ['a JSON string', '"text"', 'JSON object'],
        ['a key with a space', '{"bad key":1}', 'key must match'],
        ['a key over 64 characters', JSON.stringify({ ['k'.repeat(65)]: 1 }), 'key must match'],
        ['__proto__', '{"__proto__":{"admin":true}}', 'reserved'],
        ['a nested object', '{"a":{"b":1}}', 'string, a number or a boolean'],
        ['null', '{"a":null}', 'string, a number or a boolean'],
        ['a string over 512 characters', JSON.stringify({ a: 'x'.repeat(513) }), '512'],
        ['33 keys', JSON.stringify(Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]))), '32 keys'],
        ['more than 4 KiB', JSON.stringify(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'x'.repeat(500)]))), '4096 bytes'],
        ['a huge number', '{"a":1e400}', 'finite'],
      ])('refuses metadata that is %s', async (_name, metadata, message) => {
        const res = await s.upload(await uniqueJpeg(), { metadata });
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([{ field: 'metadata', message: expect.stringContaining(message) }]);
      });

      it('accepts metadata at the limits and echoes it back exactly', async () => {
        const metadata = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`key.${i}_-`, i % 2 ? `v${i}` : i]));
        const res = await s.upload(await uniqueJpeg(), { metadata: JSON.stringify(metadata) }).expect(201);
        expect(res.body.metadata).toEqual(metadata);
        const fetched = await s.get(`/v1/analyses/${res.body.id}`).expect(200);
        expect(fetched.body.metadata).toEqual(metadata);
      });

      it('refuses an unknown text field', async () => {
        const res = await s.upload(await uniqueJpeg()).field('admin', 'true');
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([{ field: 'admin', message: 'unknown field' }]);
      });
    });

    describe('multipart limits and malformed bodies (400, and the process keeps serving)', () => {
      const boundary = 'ArgusTestBoundary7MA4YWxkTrZu0gW';
      const multipart = `multipart/form-data; boundary=${boundary}`;

      async function stillServing(): Promise<void> {
        await s.t.http().get('/health/live').expect(200);
        await s.upload(await uniqueJpeg()).expect(201);
      }

      it('refuses two files', async () => {
        const file = await uniqueJpeg();
        const res = await s.upload(file).attach('file', file, { filename: 'b.jpg', contentType: 'image/jpeg' });
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([{ field: 'file', message: expect.stringContaining('exactly one file') }]);
        await stillServing();
      });

      it('refuses a file in another field', async () => {
        const res = await s.t
          .http()
          .post('/v1/analyses')
          .set(bearer(s.user))
          .attach('image', await uniqueJpeg(), { filename: 'a.jpg', contentType: 'image/jpeg' });
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([{ field: 'image', message: expect.stringContaining('exactly one file') }]);
      });

      it('refuses more than 5 parts', async () => {
        const req = s.upload(await uniqueJpeg());
        for (const name of ['a', 'b', 'c', 'd', 'e']) req.field(name, 'x');
        const res = await req;
        expectProblem(res, 400);
        expect(res.body.errors[0].message).toMatch(/too many (parts|text fields)/);
        await stillServing();
      });

      it('refuses a text field over 8 KiB', async () => {
        const res = await s.upload(await uniqueJpeg(), { metadata: 'x'.repeat(8 * 1024 + 1) });
        expectProblem(res, 400);
        expect(res.body.errors).toEqual([{ field: 'metadata', message: 'text fields must be at most 8 KiB' }]);
      });

      it.each([
        ['no boundary in the content type', 'multipart/form-data', `--${boundary}\r\n`],
        ['a body that ends inside a part', multipart, `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff`],
        ['a body with no parts at all', multipart, 'just some bytes, no boundary anywhere'],
        ['a malformed part header', multipart, `--${boundary}\r\nContent-Disposition form-data name=file\r\n\x00\x01\r\n\r\nx\r\n--${boundary}--\r\n`],
        ['a part without a name', multipart, `--${boundary}\r\nContent-Disposition: form-data; filename="a.jpg"\r\n\r\nxyz\r\n--${boundary}--\r\n`],
        ['an unknown multipart subtype boundary mix', 'multipart/mixed; boundary=', `--\r\n\r\n`],
      ])('answers 400 for %s', async (_name, contentType, body) => {
        const res = await s.t
          .http()
          .post('/v1/analyses')
          .set(bearer(s.user))
          .set('Content-Type', contentType)
          .send(Buffer.from(body, 'latin1'));
        expectProblem(res, 400);
        expect(JSON.stringify(res.body)).not.toMatch(/node_modules|at \w+ \(/);
        await stillServing();
      });

      it('survives a client that disconnects in the middle of an upload', async () => {
        const url = new URL('/v1/analyses', baseUrl(s.t));
        await new Promise<void>((resolve) => {
          const req = httpRequest(url, {
            method: 'POST',
            agent: false,
            headers: { ...bearer(s.user), 'content-type': multipart, 'content-length': 100_000 },
          });
          req.on('error', () => resolve());
          req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n\xff\xd8\xff`);
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 100);
        });
        await stillServing();
      });
    });
  });

  describe('size limit (MAX_FILE_SIZE_MB, default 10): 413 while streaming', () => {
    interface StreamedUpload {
      status: number;
      body: string;
      /** Body bytes written before the response arrived. */
      sentBeforeResponse: number;
      total: number;
      peakRssGrowth: number;
    }

    /** Streams a multipart body with a `fileBytes` file part, 64 KiB at a time, until the server answers. */
    async function streamUpload(fileBytes: number, options: { chunked: boolean }): Promise<StreamedUpload> {
      const boundary = `----argus-${freshSeed()}`;
      const head = Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
      );
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const total = head.length + fileBytes + tail.length;
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      chunk[0] = 0xff;
      const rssBefore = process.memoryUsage().rss;
      let peakRss = rssBefore;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 5);

      try {
        return await new Promise<StreamedUpload>((resolve, reject) => {
          let sent = 0;
          let answered = false;
          const req = httpRequest(new URL('/v1/analyses', baseUrl(s.t)), {
            method: 'POST',
            agent: false,
            headers: {
              ...bearer(s.user),
              'content-type': `multipart/form-data; boundary=${boundary}`,
              ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': total }),
            },
          });
          req.on('response', (res) => {
            answered = true;
            const sentBeforeResponse = sent;
            const chunks: Buffer[] = [];
            res.on('data', (data: Buffer) => chunks.push(data));
            res.on('end', () => {
              req.destroy();
              resolve({
                status: res.statusCode ?? 0,
                body: Buffer.concat(chunks).toString('utf8'),
                sentBeforeResponse,
                total,
                peakRssGrowth: peakRss - rssBefore,
              });
            });
          });
          req.on('error', (error) => {
            if (!answered) reject(error);
          });
          const pump = (): void => {
            if (sent === 0) {
              req.write(head);
              sent += head.length;
            }
            while (!answered && sent < head.length + fileBytes) {
              sent += chunk.length;
              if (!req.write(chunk)) {
                req.once('drain', pump);
                return;
              }
            }
            if (!answered) req.end(tail);
          };
          pump();
        });
      } finally {
        clearInterval(sampler);
      }
    }

    it('answers 413 for a 50 MB upload with Content-Length before the client has sent it, without buffering it', async () => {
      const result = await streamUpload(50 * MB, { chunked: false });

      expect(result.status).toBe(413);
      expect(JSON.parse(result.body)).toMatchObject({ status: 413, type: expect.stringMatching(/payload-too-large$/) });
      expect(result.sentBeforeResponse).toBeLessThan(result.total / 2);
      expect(result.peakRssGrowth).toBeLessThan(16 * MB);
    });

    it('answers 413 for a chunked 50 MB upload as soon as the file passes the limit', async () => {
      const result = await streamUpload(50 * MB, { chunked: true });

      expect(result.status).toBe(413);
      expect(JSON.parse(result.body).detail).toContain('10 MB');
      expect(result.sentBeforeResponse).toBeLessThan(result.total / 2);
      expect(result.peakRssGrowth).toBeLessThan(32 * MB);
    });

    it('keeps serving after oversized uploads', async () => {
      await s.t.http().get('/health/live').expect(200);
      await s.upload(await uniqueJpeg()).expect(201);
    });

    it('accepts a file just under the limit (size is not the problem, the bytes are)', async () => {
      const justUnder = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(10 * MB - 4096)]);
      expectProblem(await s.upload(justUnder), 422, 'corrupt-image');
    });
  });

  describe('history', () => {
    it('lists only my analyses, newest first, page by page with no duplicates', async () => {
      const me = await s.newUser();
      const other = await s.newUser();
      const created: string[] = [];
      for (let i = 0; i < 5; i++) {
        created.push((await s.upload(await uniqueJpeg(), {}, me).expect(201)).body.id);
      }
      await s.upload(await uniqueJpeg(), {}, other).expect(201);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `?limit=2&cursor=${encodeURIComponent(cursor)}` : '?limit=2';
        const page = await s.get(`/v1/analyses${query}`, me).expect(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((item: { id: string }) => item.id));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);

      expect(pages).toBe(3);
      expect(seen).toEqual([...created].reverse());
    });

    it('defaults to 20 items and returns the full analysis shape', async () => {
      const me = await s.newUser();
      const created = await s.upload(await uniqueJpeg(), { metadata: '{"a":1}' }, me).expect(201);
      const list = await s.get('/v1/analyses', me).expect(200);
      expect(list.body).toEqual({ items: [created.body], nextCursor: null });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['limit=abc', 'limit'],
      ['cursor=not-a-cursor', 'cursor'],
      ['cursor=MTIzNDU2Nzg5.x', 'cursor'],
      ['page=2', 'page'],
    ])('refuses ?%s with 400', async (query, field) => {
      const res = await s.get(`/v1/analyses?${query}`);
      expectProblem(res, 400);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('gets one of my analyses; someone else’s or an unknown id is 404; a non-UUID is 400', async () => {
      const mine = await s.upload(await uniqueJpeg()).expect(201);
      const stranger = await s.newUser();

      await s.get(`/v1/analyses/${mine.body.id}`).expect(200, mine.body);
      expectProblem(await s.get(`/v1/analyses/${mine.body.id}`, stranger), 404);
      expectProblem(await s.get(`/v1/analyses/${mine.body.id}/image`, stranger), 404);
      expectProblem(await s.del(`/v1/analyses/${mine.body.id}`, stranger), 404);
      expectProblem(await s.get('/v1/analyses/6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b'), 404);
      expectProblem(await s.get('/v1/analyses/not-a-uuid'), 400);
      expectProblem(await s.get('/v1/analyses/not-a-uuid/image'), 400);
      expectProblem(await s.del('/v1/analyses/1234'), 400);
      await s.get(`/v1/analyses/${mine.body.id}`).expect(200);
    });

    it('deletes an analysis and its stored image when nothing else uses it', async () => {
      const file = await uniqueJpeg();
      const created = await s.upload(file).expect(201);
      const path = storedImagePath(s, created.body.sha256);
      expect(existsSync(path)).toBe(true);

      const res = await s.del(`/v1/analyses/${created.body.id}`).expect(204);

      expect(res.text).toBe('');
      expect(existsSync(path)).toBe(false);
      expectProblem(await s.get(`/v1/analyses/${created.body.id}`), 404);
      expectProblem(await s.del(`/v1/analyses/${created.body.id}`), 404);
    });

    it('keeps the stored image while another user’s analysis still uses it', async () => {
      const other = await s.newUser();
      const file = await uniqueJpeg();
      const mine = await s.upload(file).expect(201);
      const theirs = await s.upload(file, {}, other).expect(201);
      const path = storedImagePath(s, mine.body.sha256);

      await s.del(`/v1/analyses/${mine.body.id}`).expect(204);
      expect(existsSync(path)).toBe(true);
      await s.get(`/v1/analyses/${theirs.body.id}/image`, other).expect(200);

      await s.del(`/v1/analyses/${theirs.body.id}`, other).expect(204);
      expect(existsSync(path)).toBe(false);
    });

    it('stores the image again when a cached answer outlives every analysis that used it', async () => {
      const file = await uniqueJpeg();
      const first = await s.upload(file).expect(201);
      await s.del(`/v1/analyses/${first.body.id}`).expect(204);
      expect(existsSync(storedImagePath(s, first.body.sha256))).toBe(false);

      const again = await s.upload(file).expect(201);

      expect(again.body.cached).toBe(true);
      await s.get(`/v1/analyses/${again.body.id}/image`).expect(200);
    });
  });

  describe('authentication', () => {
    const id = '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b';
    it.each([
      ['POST', '/v1/analyses'],
      ['GET', '/v1/analyses'],
      ['GET', `/v1/analyses/${id}`],
      ['GET', `/v1/analyses/${id}/image`],
      ['DELETE', `/v1/analyses/${id}`],
    ])('%s %s without a token is 401', async (method, path) => {
      const res = await s.t.http()[method.toLowerCase() as 'get' | 'post' | 'delete'](path);
      expectProblem(res, 401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('refuses an upload without a token before reading it', async () => {
      const res = await s.t
        .http()
        .post('/v1/analyses')
        .attach('file', await uniqueJpeg(), { filename: 'a.jpg', contentType: 'image/jpeg' });
      expectProblem(res, 401);
    });
  });

  describe('documentation', () => {
    it('describes the upload as multipart with file, prompt and metadata, and every route', async () => {
      const doc = (await s.t.http().get('/docs-json').expect(200)).body;
      const post = doc.paths['/v1/analyses'].post;
      const schema = post.requestBody.content['multipart/form-data'].schema;
      expect(schema.required).toEqual(['file']);
      expect(schema.properties.file).toMatchObject({ type: 'string', format: 'binary' });
      expect(Object.keys(schema.properties)).toEqual(['file', 'prompt', 'metadata']);
      expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '413', '415', '422', '429', '502', '503', '504']));
      expect(post.security).toEqual([{ bearer: [] }]);
      expect(doc.paths['/v1/analyses/{id}/image'].get.responses['200'].content).toHaveProperty('image/jpeg');
      expect(Object.keys(doc.paths['/v1/analyses/{id}'])).toEqual(expect.arrayContaining(['get', 'delete']));
      expect(doc.components.schemas.Analysis.required).toEqual(
        expect.arrayContaining(['id', 'sha256', 'cached', 'provider', 'model', 'result', 'image', 'metadata', 'usage', 'createdAt']),
      );
    });
  });
});

describe('Image analysis — per-user rate limit (ANALYSIS_RATE_LIMIT_PER_MINUTE)', () => {
  let s: AnalysisSuite;

  beforeAll(async () => {
    s = await startAnalysisSuite({ AI_PROVIDER: 'local', ANALYSIS_RATE_LIMIT_PER_MINUTE: '2' });
  });
  afterAll(async () => {
    await s?.t.close();
  });

  it('limits uploads per user, not per address, with Retry-After', async () => {
    await s.upload(await uniqueJpeg()).expect(201);
    await s.upload(await uniqueJpeg()).expect(201);

    const limited = await s.upload(await uniqueJpeg());

    expectProblem(limited, 429, 'rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // another user from the same address still has their own allowance
    const other = await s.newUser();
    await s.upload(await uniqueJpeg(), {}, other).expect(201);
    // reading history is not limited by the upload limit
    await s.get('/v1/analyses').expect(200);
  });
});
