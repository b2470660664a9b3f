import multer from 'multer';
import { PassThrough } from 'node:stream';
import { LoadImagePicker, loadImageCount, makeLoadImage, uploadForm } from '../bench/support/load';
import { ImageProcessor } from '../src/analysis/image-processor';
import { detectImageType } from '../src/analysis/image-type';
import { BoundedMemoryStorage } from '../src/analysis/upload/bounded-memory.storage';
import { MULTIPART_LIMITS } from '../src/analysis/upload/image-upload.interceptor';
import { seededRandom } from './support/seeded-random';

/**
 * `npm run load` (bench/load.ts) must only ever upload valid images: a refusal in its results has
 * to be the server's. Issue 16 item 17: one upload of a 10-minute soak (10 864 uploads) was
 * answered 415; the generator could send an image index past its generated set, i.e. the text
 * "undefined", which Argus rightly refuses.
 */

/** The soak of the report: 100 req/s for 600 s, 18 % uploads. */
const SOAK = { rate: 100, durationS: 600, uploadShare: 0.18, uploads: 10_864 };

/** A random source that answers `values` in turn, then `rest` for ever. */
function scripted(values: number[], rest: number): () => number {
  let next = 0;
  return () => (next < values.length ? values[next++] : rest);
}

describe('load generator (bench/support/load.ts)', () => {
  describe('LoadImagePicker', () => {
    it('never picks past the generated set, even when fresh images run out', () => {
      const count = 5;
      // 8 fresh picks (one roll each: < 0.2), then repeats (two rolls: ≥ 0.2, then the index roll).
      const sut = new LoadImagePicker(count, scripted(Array(8).fill(0.1), 0.99));

      const picks = Array.from({ length: 20 }, () => sut.next());

      expect(picks.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 4, 4, 4]);
      for (const index of picks) {
        expect(index).toBeGreaterThanOrEqual(0);
        expect(index).toBeLessThan(count);
      }
    });

    it('picks only generated images over 100 simulated soaks of the reported size', () => {
      const count = loadImageCount(SOAK.rate, SOAK.durationS, SOAK.uploadShare);
      const outOfRange: string[] = [];
      for (let seed = 1; seed <= 100; seed++) {
        const sut = new LoadImagePicker(count, seededRandom(seed));
        for (let upload = 0; upload < SOAK.uploads; upload++) {
          const index = sut.next();
          if (!(index >= 0 && index < count)) outOfRange.push(`soak ${seed}, upload ${upload}: image ${index}`);
        }
      }

      expect(outOfRange).toEqual([]);
    });
  });

  describe('the images and the bodies it uploads', () => {
    // Colours repeat every 256 images and the circle every 800: 3 200 distinct images at most.
    const SAMPLE = Array.from({ length: 64 }, (_, k) => k * 50 + (k % 13));

    it('generates JPEGs the image processor accepts (magic bytes, sharp format, full decode)', async () => {
      const processor = new ImageProcessor({ maxInputPixels: 40_000_000, maxEdge: 1568, concurrency: 2 });
      const refused: string[] = [];
      for (const index of SAMPLE) {
        const image = await makeLoadImage(index);
        if (detectImageType(image) !== 'jpeg') refused.push(`${index}: magic ${image.subarray(0, 4).toString('hex')}`);
        await processor.normalise(image).catch((error: Error) => refused.push(`${index}: ${error.message}`));
      }

      expect(refused).toEqual([]);
    }, 120_000);

    it('sends each image byte for byte in a multipart body the upload parser reads back whole', async () => {
      const changed: number[] = [];
      for (const index of SAMPLE.slice(0, 16)) {
        const image = await makeLoadImage(index);
        const received = await parseUpload(new Response(uploadForm(image)));
        if (!received.equals(image)) changed.push(index);
      }

      expect(changed).toEqual([]);
    }, 60_000);
  });
});

/** The file part of a serialised form, as ImageUploadInterceptor's multer + BoundedMemoryStorage read it. */
async function parseUpload(serialised: Response): Promise<Buffer> {
  const body = Buffer.from(await serialised.arrayBuffer());
  const maxFileSizeBytes = 10 * 1024 * 1024;
  const receive = multer({
    storage: new BoundedMemoryStorage(maxFileSizeBytes),
    limits: { ...MULTIPART_LIMITS, fileSize: maxFileSizeBytes },
  }).single('file');
  const req = Object.assign(new PassThrough(), {
    headers: { 'content-type': serialised.headers.get('content-type') ?? '', 'content-length': String(body.length) },
  });
  return new Promise<Buffer>((resolve, reject) => {
    receive(req as never, {} as never, (error?: unknown) => {
      if (error) return reject(error instanceof Error ? error : new Error(String(error)));
      const file = (req as unknown as { file?: Express.Multer.File }).file;
      return file ? resolve(file.buffer) : reject(new Error('no file part'));
    });
    req.end(body);
  });
}
