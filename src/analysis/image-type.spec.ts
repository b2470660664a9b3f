import sharp from 'sharp';
import { detectImageType, IMAGE_TYPE_HEAD_BYTES, type ImageType } from './image-type';

function bytes(...parts: Array<string | number[]>): Buffer {
  return Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))),
  );
}

/** An ISO-BMFF ftyp box: size, 'ftyp', major brand, minor version, compatible brands. */
function ftyp(major: string, ...compatible: string[]): Buffer {
  const size = 16 + 4 * compatible.length;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], ...compatible);
}

describe('detectImageType', () => {
  const sut = detectImageType;

  describe('recognises the accepted types by their magic bytes', () => {
    it.each<[string, Buffer, ImageType]>([
      ['JPEG (JFIF)', bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10], 'JFIF'), 'jpeg'],
      ['JPEG (Exif)', bytes([0xff, 0xd8, 0xff, 0xe1, 0x12, 0x34], 'Exif'), 'jpeg'],
      ['PNG', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 'IHDR'), 'png'],
      ['GIF87a', bytes('GIF87a', [1, 0, 1, 0]), 'gif'],
      ['GIF89a', bytes('GIF89a', [1, 0, 1, 0]), 'gif'],
      ['WebP', bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 '), 'webp'],
      ['AVIF (major brand avif)', ftyp('avif', 'mif1', 'miaf'), 'avif'],
      ['AVIF sequence (avis)', ftyp('avis', 'msf1', 'miaf'), 'avif'],
      ['AVIF under a generic mif1 major brand', ftyp('mif1', 'miaf', 'avif'), 'avif'],
      ['HEIC (iPhone)', ftyp('heic', 'mif1', 'heic'), 'heic'],
      ['HEIC (heix)', ftyp('heix', 'mif1'), 'heic'],
      ['HEIC sequence (hevc)', ftyp('hevc', 'msf1'), 'heic'],
      ['HEIF (mif1 only)', ftyp('mif1', 'heim'), 'heic'],
      ['HEIF sequence (msf1 only)', ftyp('msf1'), 'heic'],
    ])('%s', (_name, head, expected) => {
      expect(sut(head)).toBe(expected);
    });

    it.each([
      ['jpeg', (image: sharp.Sharp) => image.jpeg()],
      ['png', (image: sharp.Sharp) => image.png()],
      ['webp', (image: sharp.Sharp) => image.webp()],
      ['gif', (image: sharp.Sharp) => image.gif()],
      ['avif', (image: sharp.Sharp) => image.avif()],
    ] as const)('%s written by sharp', async (expected, encodeAs) => {
      const image = await encodeAs(
        sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }),
      ).toBuffer();

      expect(sut(image.subarray(0, IMAGE_TYPE_HEAD_BYTES))).toBe(expected);
    });

    it('needs no more than the first 32 bytes', () => {
      expect(sut(ftyp('mif1', 'miaf', 'MA1B', 'avif').subarray(0, 32))).toBe('avif');
    });
  });

  describe('refuses everything else', () => {
    it.each<[string, Buffer]>([
      ['SVG', bytes('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>')],
      ['SVG with XML declaration', bytes('<?xml version="1.0" encoding="UTF-8"?><svg>')],
      ['SVG after a byte-order mark', bytes([0xef, 0xbb, 0xbf], '<svg xmlns="http://www.w3.org/2000/svg">')],
      ['HTML', bytes('<!DOCTYPE html><html>')],
      ['PDF', bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')],
      ['plain text', bytes('just some text, not an image')],
      ['BMP', bytes('BM', [0x36, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0])],
      ['TIFF little-endian', bytes('II', [0x2a, 0, 8, 0, 0, 0])],
      ['TIFF big-endian', bytes('MM', [0, 0x2a, 0, 0, 0, 8])],
      ['MP4 video', ftyp('isom', 'iso2', 'avc1', 'mp41')],
      ['QuickTime', ftyp('qt  ')],
      ['RIFF that is not WebP (WAV)', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
      ['GIF with a bad version', bytes('GIF90a', [1, 0, 1, 0])],
      ['empty', Buffer.alloc(0)],
      ['a lone JPEG start byte pair', bytes([0xff, 0xd8])],
      ['a PNG signature cut short', bytes([0x89, 0x50, 0x4e, 0x47])],
      ['an ftyp box too small to hold a brand', bytes([0, 0, 0, 8], 'ftypheic')],
      ['an ftyp box cut before its brand', bytes([0, 0, 0, 24], 'ftyp')],
    ])('%s', (_name, head) => {
      expect(sut(head)).toBeUndefined();
    });

    it('ignores brands beyond the declared ftyp box size', () => {
      const head = Buffer.concat([ftyp('isom', 'mp41'), bytes([0, 0, 0, 8], 'avif')]);

      expect(sut(head)).toBeUndefined();
    });
  });
});
