import sharp from 'sharp';
import { hasGpsIfd, pngBomb } from '../../test/fixtures/images';
import { CorruptImageError, ImageTooLargeError, imageErrorFromSharp, UnsupportedImageTypeError } from './image.errors';
import { ImageProcessor, Semaphore } from './image-processor';

type Rgb = { r: number; g: number; b: number };

const RED: Rgb = { r: 255, g: 0, b: 0 };
const BLUE: Rgb = { r: 0, g: 0, b: 255 };
const LIME: Rgb = { r: 0, g: 255, b: 0 };

function canvas(width: number, height: number, background: sharp.Colour, channels: 3 | 4 = 3): sharp.Sharp {
  return sharp({ create: { width, height, channels, background } });
}

/** Left half red, right half blue: tells which way an image was rotated. */
function halves(width: number, height: number): sharp.Sharp {
  return canvas(width, height, RED).composite([
    { input: { create: { width: width / 2, height, channels: 3, background: BLUE } }, left: width / 2, top: 0 },
  ]);
}

async function pixelAt(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return Array.from(data.subarray(offset, offset + info.channels));
}

function expectColour(actual: number[], expected: Rgb): void {
  const [r, g, b] = actual;
  expect(Math.abs(r - expected.r)).toBeLessThan(24);
  expect(Math.abs(g - expected.g)).toBeLessThan(24);
  expect(Math.abs(b - expected.b)).toBeLessThan(24);
}

describe('ImageProcessor', () => {
  let sut: ImageProcessor;

  beforeEach(() => {
    sut = new ImageProcessor({ maxInputPixels: 40_000_000, maxEdge: 1568, concurrency: 2 });
  });

  describe('orientation and metadata', () => {
    it('applies EXIF orientation 6 and drops the EXIF block', async () => {
      const input = await halves(300, 200).jpeg().withMetadata({ orientation: 6 }).toBuffer();
      expect((await sharp(input).metadata()).orientation).toBe(6);

      const result = await sut.normalise(input);

      expect(result).toMatchObject({ format: 'jpeg', contentType: 'image/jpeg', width: 200, height: 300 });
      expect(result.source).toMatchObject({ format: 'jpeg', width: 300, height: 200, orientation: 6 });
      // rotated 90° clockwise: the stored left (red) half is now on top
      expectColour(await pixelAt(result.data, 100, 20), RED);
      expectColour(await pixelAt(result.data, 100, 280), BLUE);
      const out = await sharp(result.data).metadata();
      expect(out.orientation).toBeUndefined();
      expect(out.exif).toBeUndefined();
    });

    it('strips GPS EXIF, XMP and ICC from the output', async () => {
      const input = await canvas(64, 48, '#336699')
        .jpeg()
        .withExif({
          IFD0: { Copyright: 'Someone' },
          IFD3: {
            GPSLatitudeRef: 'N',
            GPSLatitude: '51/1 30/1 0/1',
            GPSLongitudeRef: 'W',
            GPSLongitude: '0/1 7/1 0/1',
          },
        })
        .withXmp(
          '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>',
        )
        .withIccProfile('p3')
        .toBuffer();
      const fixture = await sharp(input).metadata();
      expect(fixture.exif && hasGpsIfd(fixture.exif)).toBe(true);
      expect(fixture.xmp).toBeDefined();
      expect(fixture.icc).toBeDefined();

      const result = await sut.normalise(input);

      const out = await sharp(result.data).metadata();
      expect(out.exif).toBeUndefined();
      expect(out.xmp).toBeUndefined();
      expect(out.icc).toBeUndefined();
      expect(out.iptc).toBeUndefined();
      expect(result.data.includes('Someone')).toBe(false);
    });

    it('converts a CMYK JPEG to 3-channel sRGB', async () => {
      const input = await canvas(40, 30, RED).toColourspace('cmyk').jpeg().toBuffer();
      expect((await sharp(input).metadata()).space).toBe('cmyk');

      const result = await sut.normalise(input);

      const out = await sharp(result.data).metadata();
      expect(out).toMatchObject({ space: 'srgb', channels: 3 });
      expectColour(await pixelAt(result.data, 20, 15), RED);
    });
  });

  describe('size', () => {
    it('shrinks a large image so its long edge is maxEdge', async () => {
      const input = await canvas(3000, 2000, '#808080').jpeg().toBuffer();

      const result = await sut.normalise(input);

      expect(result.width).toBe(1568);
      expect(Math.abs(result.height - 1045)).toBeLessThanOrEqual(1);
      expect(result.bytes).toBe(result.data.length);
    });

    it('shrinks a tall image by its height', async () => {
      const input = await canvas(500, 2000, '#808080').png().toBuffer();

      const result = await sut.normalise(input);

      expect(result).toMatchObject({ width: 392, height: 1568 });
    });

    it('never enlarges a small image', async () => {
      const input = await canvas(100, 80, BLUE).png().toBuffer();

      const result = await sut.normalise(input);

      expect(result).toMatchObject({ format: 'jpeg', width: 100, height: 80 });
      expect(result.source).toMatchObject({ format: 'png', width: 100, height: 80, hasAlpha: false });
    });
  });

  describe('transparency', () => {
    it('keeps real transparency as WebP with alpha', async () => {
      const input = await canvas(64, 64, { r: 0, g: 0, b: 0, alpha: 0 }, 4)
        .composite([{ input: { create: { width: 32, height: 64, channels: 4, background: RED } }, left: 0, top: 0 }])
        .png()
        .toBuffer();

      const result = await sut.normalise(input);

      expect(result).toMatchObject({ format: 'webp', contentType: 'image/webp', width: 64, height: 64 });
      const out = await sharp(result.data).metadata();
      expect(out).toMatchObject({ format: 'webp', hasAlpha: true });
      expect((await pixelAt(result.data, 60, 32))[3]).toBe(0);
      expect((await pixelAt(result.data, 4, 32))[3]).toBe(255);
    });

    it('drops an alpha channel that is fully opaque and emits JPEG', async () => {
      const input = await canvas(32, 32, { ...RED, alpha: 1 }, 4)
        .png()
        .toBuffer();
      expect((await sharp(input).metadata()).hasAlpha).toBe(true);

      const result = await sut.normalise(input);

      expect(result.format).toBe('jpeg');
      expect(result.source.hasAlpha).toBe(true);
    });
  });

  describe('accepted inputs', () => {
    it.each([
      ['webp', (image: sharp.Sharp) => image.webp()],
      ['avif', (image: sharp.Sharp) => image.avif()],
      ['gif', (image: sharp.Sharp) => image.gif()],
    ] as const)('normalises %s', async (format, encodeAs) => {
      const input = await encodeAs(canvas(48, 32, LIME)).toBuffer();

      const result = await sut.normalise(input);

      expect(result).toMatchObject({ format: 'jpeg', width: 48, height: 32 });
      expect(result.source.format).toBe(format);
      expectColour(await pixelAt(result.data, 24, 16), LIME);
    });

    it('normalises a 16-bit greyscale PNG to 8-bit sRGB', async () => {
      const input = await canvas(40, 30, '#404040').greyscale().toColourspace('grey16').png().toBuffer();
      expect((await sharp(input).metadata()).depth).toBe('ushort');

      const result = await sut.normalise(input);

      expect(await sharp(result.data).metadata()).toMatchObject({ space: 'srgb', channels: 3, depth: 'uchar' });
    });

    it('decides the type from the bytes: PNG bytes uploaded as photo.jpg are read as PNG', async () => {
      const pngBytesNamedJpeg = await canvas(20, 10, RED).png().toBuffer();

      const result = await sut.normalise(pngBytesNamedJpeg);

      expect(result.source.format).toBe('png');
    });

    it('keeps only the first frame of an animated GIF', async () => {
      const frames = await canvas(20, 60, RED)
        .composite([
          { input: { create: { width: 20, height: 20, channels: 3, background: BLUE } }, left: 0, top: 20 },
          { input: { create: { width: 20, height: 20, channels: 3, background: LIME } }, left: 0, top: 40 },
        ])
        .removeAlpha()
        .raw()
        .toBuffer();
      const input = await sharp(frames, { raw: { width: 20, height: 60, channels: 3, pageHeight: 20 } })
        .gif({ loop: 0, delay: [100, 100, 100] })
        .toBuffer();
      expect((await sharp(input).metadata()).pages).toBe(3);

      const result = await sut.normalise(input);

      expect(result).toMatchObject({ format: 'jpeg', width: 20, height: 20 });
      expect(result.source).toMatchObject({ format: 'gif', width: 20, height: 20, pages: 3 });
      expectColour(await pixelAt(result.data, 10, 10), RED);
    });
  });

  describe('refused inputs', () => {
    it.each([
      ['SVG', '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'],
      ['SVG with an XML declaration', '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'],
      ['plain text', 'hello, this is not an image'],
      ['HTML', '<!doctype html><html><body><img src=x onerror=alert(1)></body></html>'],
      ['PDF', '%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'],
      ['empty', ''],
    ])('refuses %s as unsupported', async (_name, content) => {
      await expect(sut.normalise(Buffer.from(content))).rejects.toBeInstanceOf(UnsupportedImageTypeError);
    });

    it('refuses TIFF, which sharp could read but the contract does not accept', async () => {
      const tiff = await canvas(8, 8, RED).tiff().toBuffer();

      await expect(sut.normalise(tiff)).rejects.toBeInstanceOf(UnsupportedImageTypeError);
    });

    it('refuses a pixel bomb from its header, without decoding it', async () => {
      const bomb = pngBomb(30_000, 30_000);
      expect(bomb.length).toBeLessThan(2048);

      const started = process.hrtime.bigint();
      await expect(sut.normalise(bomb)).rejects.toBeInstanceOf(ImageTooLargeError);
      // decoding 2.7 GB of pixels would take seconds; reading a header takes milliseconds
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
    });

    it('refuses an ordinary image above the configured pixel budget', async () => {
      sut = new ImageProcessor({ maxInputPixels: 500_000, maxEdge: 1568 });
      const input = await canvas(1000, 1000, BLUE).jpeg().toBuffer();

      await expect(sut.normalise(input)).rejects.toBeInstanceOf(ImageTooLargeError);
    });

    it('accepts an image exactly at the pixel budget', async () => {
      sut = new ImageProcessor({ maxInputPixels: 1_000_000, maxEdge: 1568 });
      const input = await canvas(1000, 1000, BLUE).jpeg().toBuffer();

      await expect(sut.normalise(input)).resolves.toMatchObject({ width: 1000, height: 1000 });
    });

    it.each([
      ['JPEG', (image: sharp.Sharp) => image.jpeg()],
      ['PNG', (image: sharp.Sharp) => image.png()],
      ['WebP', (image: sharp.Sharp) => image.webp()],
    ] as const)('refuses a truncated %s as corrupt', async (_name, encodeAs) => {
      const whole = await encodeAs(halves(400, 300)).toBuffer();
      const truncated = whole.subarray(0, Math.floor(whole.length * 0.6));

      await expect(sut.normalise(truncated)).rejects.toBeInstanceOf(CorruptImageError);
    });

    it('refuses image magic bytes followed by garbage as corrupt', async () => {
      const svgInJpegClothing = Buffer.concat([
        Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
        Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
      ]);

      await expect(sut.normalise(svgInJpegClothing)).rejects.toBeInstanceOf(CorruptImageError);
    });

    it('accepts a JPEG whose scan raises only a recoverable decoder warning', async () => {
      const whole = await halves(400, 300).jpeg().toBuffer();
      const damaged = Buffer.from(whole);
      const middle = Math.floor(damaged.length / 2);
      // a stray marker inside the entropy-coded data: libjpeg warns and carries on
      damaged[middle] = 0xff;
      damaged[middle + 1] = 0xfe;
      await expect(sharp(damaged, { failOn: 'warning' }).toBuffer()).rejects.toThrow(/Corrupt JPEG data/);

      await expect(sut.normalise(damaged)).resolves.toMatchObject({ width: 400, height: 300 });
    });
  });

  describe('concurrency', () => {
    it('normalises concurrent calls correctly', async () => {
      sut = new ImageProcessor({ maxInputPixels: 40_000_000, maxEdge: 64, concurrency: 1 });
      const inputs = await Promise.all([RED, BLUE, LIME].map((colour) => canvas(128, 96, colour).png().toBuffer()));

      const results = await Promise.all(inputs.map((input) => sut.normalise(input)));

      expect(results.map(({ width, height }) => [width, height])).toEqual([
        [64, 48],
        [64, 48],
        [64, 48],
      ]);
      expectColour(await pixelAt(results[1].data, 10, 10), BLUE);
    });

    it('refuses a concurrency that is not a positive integer', () => {
      expect(() => new ImageProcessor({ maxInputPixels: 1, maxEdge: 1, concurrency: 0 })).toThrow(RangeError);
    });
  });
});

describe('Semaphore', () => {
  function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  }

  it('runs at most `limit` tasks at once, in arrival order, and frees slots after failures', async () => {
    const sut = new Semaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const runs = gates.map((gate, index) =>
      sut.run(async () => {
        started.push(index);
        running++;
        peak = Math.max(peak, running);
        try {
          await gate.promise;
        } finally {
          running--;
        }
        return index;
      }),
    );
    const outcomes = Promise.allSettled(runs);
    const settle = () => new Promise((resolve) => setImmediate(resolve));

    await settle();
    expect(started).toEqual([0, 1]);
    gates[0].reject(new Error('boom'));
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[1].resolve();
    gates[2].resolve();
    gates[3].resolve();

    expect((await outcomes).map((outcome) => outcome.status)).toEqual([
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(started).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
  });
});

describe('imageErrorFromSharp', () => {
  it.each([
    ['the pixel limit', 'Input image exceeds pixel limit', ImageTooLargeError],
    [
      'HEVC on a build without it',
      'bad seek\nheif: Unsupported feature: Unsupported codec (4.3000)',
      UnsupportedImageTypeError,
    ],
    ['a truncated JPEG', 'VipsJpeg: premature end of JPEG image', CorruptImageError],
    ['anything else', 'Input buffer contains unsupported image format', CorruptImageError],
  ])('maps %s', (_name, message, expected) => {
    const cause = new Error(message);

    const error = imageErrorFromSharp(cause, 100);

    expect(error).toBeInstanceOf(expected);
    expect(error.cause).toBe(cause);
    expect(error.detail).not.toContain('Vips');
  });
});
