import { parseDecimal } from './range-csv';
import { largestBlockWithin, RangeTableBuilder } from './range-table';

const v4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

describe('RangeTable (IPv4)', () => {
  function build(rows: Array<[number, number, number]>): ReturnType<RangeTableBuilder['build']> & { skipped: number } {
    const builder = new RangeTableBuilder(1, 2);
    for (const [start, end, value] of rows) builder.add([start], [end], value);
    return Object.assign(builder.build(), { skipped: builder.skipped });
  }

  it('finds the range holding an address, and nothing between ranges', () => {
    const sut = build([
      [v4(1, 0, 0, 0), v4(1, 0, 0, 255), 1],
      [v4(1, 0, 4, 0), v4(1, 0, 7, 255), 2],
    ]);
    expect(sut.value(sut.find([v4(1, 0, 0, 7)]))).toBe(1);
    expect(sut.value(sut.find([v4(1, 0, 7, 255)]))).toBe(2);
    expect(sut.find([v4(1, 0, 2, 0)])).toBe(-1);
    expect(sut.find([v4(0, 255, 255, 255)])).toBe(-1);
    expect(sut.find([v4(255, 255, 255, 255)])).toBe(-1);
  });

  it('lets a nested row win for its span and splits the outer range around it, at any depth', () => {
    const sut = build([
      [v4(10, 0, 0, 0), v4(10, 0, 0, 255), 1],
      [v4(10, 0, 0, 16), v4(10, 0, 0, 31), 2],
      [v4(10, 0, 0, 20), v4(10, 0, 0, 20), 3],
      [v4(10, 0, 0, 64), v4(10, 0, 0, 64), 4],
    ]);
    const at = (d: number): number => sut.value(sut.find([v4(10, 0, 0, d)]));
    expect([at(0), at(15), at(16), at(19), at(20), at(21), at(31), at(32), at(64), at(65), at(255)]).toEqual([
      1, 1, 2, 2, 3, 2, 2, 1, 4, 1, 1,
    ]);
  });

  it('lets the later of two rows with the same start win', () => {
    const sut = build([
      [v4(10, 0, 0, 0), v4(10, 0, 0, 255), 1],
      [v4(10, 0, 0, 0), v4(10, 0, 0, 127), 2],
    ]);
    expect(sut.value(sut.find([v4(10, 0, 0, 5)]))).toBe(2);
    expect(sut.value(sut.find([v4(10, 0, 0, 200)]))).toBe(1);
  });

  it('refuses rows out of order or with start after end', () => {
    const sut = build([
      [v4(10, 0, 0, 0), v4(10, 0, 0, 255), 1],
      [v4(9, 0, 0, 0), v4(9, 0, 0, 255), 2],
      [v4(11, 0, 0, 9), v4(11, 0, 0, 1), 3],
    ]);
    expect(sut.skipped).toBe(2);
    expect(sut.size).toBe(1);
  });

  it('handles a range ending at the last address', () => {
    const sut = build([
      [v4(255, 0, 0, 0), 0xffffffff, 1],
      [v4(255, 255, 255, 255), 0xffffffff, 2],
    ]);
    expect(sut.value(sut.find([0xffffffff]))).toBe(2);
    expect(sut.value(sut.find([v4(255, 1, 0, 0)]))).toBe(1);
  });
});

describe('RangeTable (IPv6, 4 words)', () => {
  it('compares all four words', () => {
    const builder = new RangeTableBuilder(4, 1);
    builder.add([0x20010db8, 0, 0, 0], [0x20010db8, 0xffff, 0xffffffff, 0xffffffff], 7);
    builder.add([0x20010db8, 0x10000, 0, 0], [0x20010db8, 0x1ffff, 0xffffffff, 0xffffffff], 8);
    const sut = builder.build();
    expect(sut.value(sut.find([0x20010db8, 0x1234, 0, 1]))).toBe(7);
    expect(sut.value(sut.find([0x20010db8, 0x10000, 0, 0]))).toBe(8);
    expect(sut.find([0x20010db8, 0x20000, 0, 0])).toBe(-1);
  });
});

describe('largestBlockWithin', () => {
  it('is the whole range when it is one CIDR block', () => {
    expect(largestBlockWithin([v4(8, 8, 8, 8)], [v4(8, 8, 8, 0)], [v4(8, 8, 8, 255)])).toBe(24);
  });

  it('is the largest aligned block around the address inside an unaligned range', () => {
    // 10.0.0.0 – 10.0.2.255 holds 10.0.0.0/23 and 10.0.2.0/24.
    expect(largestBlockWithin([v4(10, 0, 1, 9)], [v4(10, 0, 0, 0)], [v4(10, 0, 2, 255)])).toBe(23);
    expect(largestBlockWithin([v4(10, 0, 2, 9)], [v4(10, 0, 0, 0)], [v4(10, 0, 2, 255)])).toBe(24);
  });

  it('works on IPv6 words', () => {
    const start = [0x20010db8, 0, 0, 0];
    const end = [0x20010db8, 0xffff, 0xffffffff, 0xffffffff];
    expect(largestBlockWithin([0x20010db8, 5, 0, 1], start, end)).toBe(48);
  });
});

describe('parseDecimal', () => {
  const words = (text: string, count: 1 | 4): number[] | false => {
    const out = new Uint32Array(count);
    return parseDecimal(text, 0, text.length, out) ? Array.from(out) : false;
  };

  it('reads IPv4 numbers', () => {
    expect(words('16777216', 1)).toEqual([16777216]);
    expect(words('4294967295', 1)).toEqual([4294967295]);
    expect(words('4294967296', 1)).toBe(false);
  });

  it('reads 128-bit numbers exactly', () => {
    for (const value of [0n, 1n, 42540488161975842760550356425300246528n, (1n << 128n) - 1n, 123456789012345678901n]) {
      const parsed = words(value.toString(), 4) as number[];
      expect(parsed.reduce((sum, word) => (sum << 32n) | BigInt(word), 0n)).toBe(value);
    }
    expect(words((1n << 128n).toString(), 4)).toBe(false);
  });

  it('refuses what is not a number', () => {
    expect(words('12a4', 1)).toBe(false);
    expect(words('', 4)).toBe(false);
    expect(words('-1', 1)).toBe(false);
  });
});
