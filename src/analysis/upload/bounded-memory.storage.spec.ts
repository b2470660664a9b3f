import multer from 'multer';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { BoundedMemoryStorage } from './bounded-memory.storage';
import { MULTIPART_LIMITS } from './image-upload.interceptor';

const MAX_FILE_SIZE_BYTES = 10 * 1024 * 1024;

interface Body {
  bytes: Buffer;
  contentType: string;
}

/** A JPEG like the load generator's (800×600, ~6 KB: the whole body usually arrives in one read). */
function jpeg(): Promise<Buffer> {
  return sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 40, g: 120, b: 7 } } })
    .composite([
      { input: Buffer.from('<svg width="800" height="600"><circle cx="7" cy="300" r="120" fill="#fff"/></svg>') },
    ])
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** The multipart body fetch sends for one file part, and its Content-Type (with the boundary). */
async function formBody(file: Buffer): Promise<Body> {
  const form = new FormData();
  form.append('file', new Blob([file], { type: 'image/jpeg' }), 'photo.jpg');
  const serialised = new Response(form);
  return {
    bytes: Buffer.from(await serialised.arrayBuffer()),
    contentType: serialised.headers.get('content-type') ?? '',
  };
}

type Outcome = { file: Buffer } | { error: unknown } | { tooLarge: true };

/**
 * Feeds `chunks` (the body, split) to multer with BoundedMemoryStorage as ImageUploadInterceptor
 * configures them. With `declareLength` the request carries Content-Length, so the file is copied
 * into one preallocated buffer; without it (chunked) the chunks are kept and concatenated.
 */
function receive(
  body: Body,
  chunks: Buffer[],
  declareLength: boolean,
  maxFileSizeBytes = MAX_FILE_SIZE_BYTES,
): Promise<Outcome> {
  const storage = new BoundedMemoryStorage(maxFileSizeBytes);
  const parse = multer({ storage, limits: { ...MULTIPART_LIMITS, fileSize: maxFileSizeBytes } }).single('file');
  const req = Object.assign(new PassThrough(), {
    headers: {
      'content-type': body.contentType,
      ...(declareLength ? { 'content-length': String(body.bytes.length) } : { 'transfer-encoding': 'chunked' }),
    },
  });
  return new Promise<Outcome>((resolve) => {
    storage.track(req as never, () => resolve({ tooLarge: true }));
    parse(req as never, {} as never, (error?: unknown) => {
      if (error) return resolve({ error });
      const file = (req as unknown as { file?: Express.Multer.File }).file;
      resolve(file ? { file: file.buffer } : { error: new Error('no file part') });
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

function splitEvery(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}

/**
 * Issue 16 item 17 (a 415 for a valid JPEG under load): whatever the TCP reads look like, the file
 * the analysis sees is the uploaded bytes — chunk boundaries inside the part headers, inside the
 * JPEG's magic bytes, inside the closing boundary, or straddling the preallocated buffer.
 */
describe('BoundedMemoryStorage', () => {
  let image: Buffer;
  let body: Body;

  beforeAll(async () => {
    image = await jpeg();
    body = await formBody(image);
  });

  it.each([
    ['with Content-Length (one preallocated buffer)', true],
    ['chunked (the chunks concatenated)', false],
  ])('reads the file whole for a body split in two at every offset, %s', async (_name, declareLength) => {
    const wrong: number[] = [];
    for (let cut = 0; cut <= body.bytes.length; cut++) {
      const outcome = await receive(body, [body.bytes.subarray(0, cut), body.bytes.subarray(cut)], declareLength);
      if (!('file' in outcome) || !outcome.file.equals(image)) wrong.push(cut);
    }

    expect(wrong).toEqual([]);
  });

  it.each([1, 2, 3, 7, 64, 1000, 4096])('reads the file whole from %i-byte reads', async (size) => {
    for (const declareLength of [true, false]) {
      const outcome = await receive(body, splitEvery(body.bytes, size), declareLength);

      expect(outcome).toEqual({ file: image });
    }
  });

  it('reads a file of exactly the size limit whole, and refuses one byte more as too large', async () => {
    const atLimit = await receive(body, [body.bytes], true, image.length);
    const overLimit = await receive(body, [body.bytes], true, image.length - 1);

    expect(atLimit).toEqual({ file: image });
    expect(overLimit).toEqual({ tooLarge: true });
  });

  it('gives every upload its own buffer: a later upload does not change an earlier one', async () => {
    const other = await formBody(Buffer.from(image).fill(0x5a, 64));
    const first = await receive(body, splitEvery(body.bytes, 1000), true);
    await Promise.all(Array.from({ length: 20 }, () => receive(other, splitEvery(other.bytes, 999), true)));

    expect(first).toEqual({ file: image });
  });
});
