import { colourDifference, ImageFingerprint, MAX_COLOUR_DIFFERENCE, nearDuplicateDistance } from './image-fingerprint';

/** A colour layout of 16 cells all of one colour. */
const flat = (r: number, g: number, b: number) =>
  Buffer.from(Array.from({ length: 16 }, () => [r, g, b]).flat()).toString('hex');
const image: ImageFingerprint = { phash: '00000000000000ff', colourLayout: flat(100, 150, 200) };

describe('colourDifference', () => {
  it('is the largest difference of one cell channel', () => {
    const layout = Buffer.from(image.colourLayout, 'hex');
    layout[47] += 40; // the last cell's blue
    layout[0] -= 7;
    expect(colourDifference(image.colourLayout, layout.toString('hex'))).toBe(40);
    expect(colourDifference(image.colourLayout, image.colourLayout)).toBe(0);
  });

  it('is infinite when either side is not a layout (a row stored before layouts existed)', () => {
    expect(colourDifference(image.colourLayout, '')).toBe(Number.POSITIVE_INFINITY);
    expect(colourDifference('zz', image.colourLayout)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('nearDuplicateDistance', () => {
  it('answers the hash distance of a copy within the bits and of the same colours', () => {
    const copy = { phash: '000000000000003f', colourLayout: flat(110, 140, 200) }; // 2 bits, colours within 10
    expect(nearDuplicateDistance(image, copy, 6)).toBe(2);
    expect(nearDuplicateDistance(image, image, 6)).toBe(0);
  });

  it('is null past the distance, however alike the colours', () => {
    const farther = { phash: '0000000000000000', colourLayout: image.colourLayout }; // 8 bits
    expect(nearDuplicateDistance(image, farther, 6)).toBeNull();
    expect(nearDuplicateDistance(image, farther, 8)).toBe(8);
  });

  it('is null for the same structure in other colours (the hash is greyscale)', () => {
    const recoloured = { phash: image.phash, colourLayout: flat(100, 150, 200 - MAX_COLOUR_DIFFERENCE - 1) };
    expect(nearDuplicateDistance(image, recoloured, 6)).toBeNull();
    const justWithin = { phash: image.phash, colourLayout: flat(100, 150, 200 - MAX_COLOUR_DIFFERENCE) };
    expect(nearDuplicateDistance(image, justWithin, 6)).toBe(0);
  });

  it('is null against a candidate without a colour layout', () => {
    expect(nearDuplicateDistance(image, { phash: image.phash, colourLayout: '' }, 6)).toBeNull();
  });
});
