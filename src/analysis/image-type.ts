export type ImageType = 'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heic';

/**
 * The most leading bytes `detectImageType` looks at. 12 settle every signature; the rest cover the
 * compatible-brand list of an ISO-BMFF ftyp box (the first 32 already hold major + 4 brands).
 */
export const IMAGE_TYPE_HEAD_BYTES = 64;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);

/**
 * Identifies an image by its magic bytes alone. Anything that is not one of the accepted raster
 * types — SVG, PDF, HTML, text, TIFF, BMP, video — is `undefined`, so it never reaches a decoder.
 * TIFF and BMP are refused on purpose: the contract does not list them and libtiff is a large
 * attack surface for no user benefit.
 */
export function detectImageType(head: Buffer): ImageType | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (head.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) return 'png';
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'webp';
  if (ascii(head, 4, 8) === 'ftyp') return isoBmffImageType(head);
  return undefined;
}

/** ISO-BMFF (HEIF family): the ftyp box holds a major brand and a list of compatible brands. */
function isoBmffImageType(head: Buffer): ImageType | undefined {
  const boxSize = head.readUInt32BE(0);
  // size, 'ftyp', major brand and minor version take 16 bytes: a shorter box is malformed
  const majorBrand = ascii(head, 8, 12);
  if (boxSize < 16 || majorBrand === undefined) return undefined;
  const end = Math.min(boxSize, head.length, IMAGE_TYPE_HEAD_BYTES);
  const brands = [majorBrand];
  for (let offset = 16; offset + 4 <= end; offset += 4) {
    brands.push(head.toString('latin1', offset, offset + 4));
  }
  // mif1 (generic HEIF) appears in AVIF files too, so an AV1 brand anywhere wins.
  if (brands.some((brand) => AVIF_BRANDS.has(brand))) return 'avif';
  if (brands.some((brand) => HEIC_BRANDS.has(brand))) return 'heic';
  return undefined;
}

function startsWith(head: Buffer, bytes: readonly number[]): boolean {
  return head.length >= bytes.length && bytes.every((byte, index) => head[index] === byte);
}

function ascii(head: Buffer, start: number, end: number): string | undefined {
  return head.length >= end ? head.toString('latin1', start, end) : undefined;
}
