/** A RangeTable's typed arrays, as posted from the loading worker (each owns its own ArrayBuffer). */
export interface RangeTableArrays {
  words: 1 | 4;
  starts: Uint32Array;
  ends: Uint32Array;
  values: Uint32Array;
  size: number;
}

/**
 * Sorted, non-overlapping address ranges with one small integer value each, searched by binary
 * search. Addresses are big-endian 32-bit words: 1 word for IPv4, 4 for IPv6. Everything lives in
 * typed arrays (about 12 bytes per IPv4 range, 36 per IPv6 range), so half a million ranges cost a
 * few megabytes and no garbage-collector work; a lookup is ~20 comparisons and allocates nothing.
 */
export class RangeTable {
  readonly words: 1 | 4;
  /** Range i starts at starts[i*words … i*words+words-1] and ends (inclusive) at the same place in `ends`. */
  private readonly starts: Uint32Array;
  private readonly ends: Uint32Array;
  private readonly values: Uint32Array;
  readonly size: number;

  constructor(words: 1 | 4, starts: Uint32Array, ends: Uint32Array, values: Uint32Array, size: number) {
    this.words = words;
    this.starts = starts;
    this.ends = ends;
    this.values = values;
    this.size = size;
  }

  /** Rebuilds a table from its arrays (the other side of `arrays()`); the arrays are used, not copied. */
  static fromArrays({ words, starts, ends, values, size }: RangeTableArrays): RangeTable {
    if (starts.length !== size * words || ends.length !== size * words || values.length !== size) {
      throw new RangeError(`A range table of ${size} ranges of ${words} words has arrays of the wrong length.`);
    }
    return new RangeTable(words, starts, ends, values, size);
  }

  /** The table's own arrays (not copies), to post to another thread; `buffers` lists what to transfer. */
  arrays(): { arrays: RangeTableArrays; buffers: ArrayBuffer[] } {
    const { words, starts, ends, values, size } = this;
    return { arrays: { words, starts, ends, values, size }, buffers: [starts, ends, values].map(ownBuffer) };
  }

  get byteLength(): number {
    return this.starts.byteLength + this.ends.byteLength + this.values.byteLength;
  }

  /** Index of the range holding the address (`words` big-endian words), or -1. */
  find(address: Uint32Array | readonly number[]): number {
    return this.words === 1 ? this.find4(address[0]) : this.find6(address);
  }

  value(index: number): number {
    return this.values[index];
  }

  /** First / last address of an IPv4 range (words = 1). */
  start4(index: number): number {
    return this.starts[index];
  }

  end4(index: number): number {
    return this.ends[index];
  }

  /** The range's first and last address as words (copies). */
  bounds(index: number): { start: number[]; end: number[] } {
    const from = index * this.words;
    return {
      start: Array.from(this.starts.subarray(from, from + this.words)),
      end: Array.from(this.ends.subarray(from, from + this.words)),
    };
  }

  /** `find` for IPv4 tables, on the address as one unsigned 32-bit number. */
  find4(address: number): number {
    const starts = this.starts;
    let low = 0;
    let high = this.size - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (starts[mid] <= address) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found !== -1 && address <= this.ends[found] ? found : -1;
  }

  private find6(address: Uint32Array | readonly number[]): number {
    let low = 0;
    let high = this.size - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (compareWords(this.starts, mid * 4, address) <= 0) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found !== -1 && compareWords(this.ends, found * 4, address) >= 0 ? found : -1;
  }
}

/**
 * The buffer behind `array`, which must be the array's alone (transferring it detaches it): a view
 * over part of a larger buffer would hand the rest of that buffer over too.
 */
export function ownBuffer(array: Uint32Array): ArrayBuffer {
  if (array.byteOffset !== 0 || array.byteLength !== array.buffer.byteLength) {
    throw new RangeError('Only an array with a buffer of its own can be transferred.');
  }
  return array.buffer as ArrayBuffer;
}

/** Sign of (table words at `offset`) − address, for 4-word addresses. */
function compareWords(table: Uint32Array, offset: number, address: Uint32Array | readonly number[]): number {
  for (let i = 0; i < 4; i++) {
    const a = table[offset + i];
    const b = address[i];
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

interface OpenRange {
  /** Where the part not yet written begins. */
  from: number[];
  /** Nothing is left to write (a later row covered the rest, up to the last address). */
  done?: boolean;
  end: number[];
  value: number;
}

/**
 * Collects rows in ascending order of their start and writes them out as disjoint ranges. A row
 * inside an earlier one (a more specific record: geofeed data inside a registry allocation) wins
 * over it for its own span: the outer range is split around it, at any depth of nesting. Of two
 * rows with the same start, the later wins. Rows that start before an earlier row are refused.
 */
export class RangeTableBuilder {
  private starts: Uint32Array;
  private ends: Uint32Array;
  private values: Uint32Array;
  private count = 0;
  /** Outer ranges still open around the latest row, innermost last. */
  private readonly open: OpenRange[] = [];
  private lastStart: number[] | undefined;
  /** Rows refused because they were out of order or had start > end. */
  skipped = 0;
  /** Rows that overrode part of an earlier range. */
  nested = 0;

  constructor(
    readonly words: 1 | 4,
    capacity = 1 << 16,
  ) {
    this.starts = new Uint32Array(capacity * words);
    this.ends = new Uint32Array(capacity * words);
    this.values = new Uint32Array(capacity);
  }

  /** `start`/`end` hold `words` words each; they are copied. */
  add(start: ArrayLike<number>, end: ArrayLike<number>, value: number): void {
    const w = this.words;
    if (compare(start, end, w) > 0 || (this.lastStart !== undefined && compare(start, this.lastStart, w) < 0)) {
      this.skipped++;
      return;
    }
    const row: OpenRange = { from: Array.from(start), end: Array.from(end), value };
    this.lastStart = row.from;
    this.closeBefore(row.from);
    const top = this.open[this.open.length - 1];
    if (top !== undefined) {
      this.nested++;
      if (compare(top.from, row.from, w) < 0) this.append(top.from, decrement(row.from), top.value);
      this.resumeAfter(row.end);
    }
    this.open.push(row);
  }

  build(): RangeTable {
    this.closeBefore(undefined);
    const w = this.words;
    return new RangeTable(
      w,
      this.starts.slice(0, this.count * w),
      this.ends.slice(0, this.count * w),
      this.values.slice(0, this.count),
      this.count,
    );
  }

  /** Writes out and closes the open ranges that end before `address` (all of them when undefined). */
  private closeBefore(address: number[] | undefined): void {
    const w = this.words;
    for (;;) {
      const top = this.open[this.open.length - 1];
      if (top === undefined || (address !== undefined && compare(top.end, address, w) >= 0)) return;
      this.open.pop();
      if (!top.done) this.append(top.from, top.end, top.value);
      this.resumeAfter(top.end);
    }
  }

  /** Every open range resumes after `end` (or is used up when `end` is the last address). */
  private resumeAfter(end: number[]): void {
    const after = increment(end);
    for (const outer of this.open) {
      if (after === undefined) outer.done = true;
      else if (compare(outer.from, after, this.words) < 0) outer.from = after;
    }
  }

  /** Appends [start, end] unless it is empty (start past end, or wrapped past the last address). */
  private append(start: ArrayLike<number>, end: ArrayLike<number>, value: number): void {
    const w = this.words;
    if (compare(start, end, w) > 0) return;
    if (this.count === this.values.length) this.grow();
    const at = this.count * w;
    for (let i = 0; i < w; i++) {
      this.starts[at + i] = start[i];
      this.ends[at + i] = end[i];
    }
    this.values[this.count++] = value;
  }

  private grow(): void {
    const grown = (array: Uint32Array): Uint32Array => {
      const copy = new Uint32Array(array.length * 2);
      copy.set(array);
      return copy;
    };
    this.starts = grown(this.starts);
    this.ends = grown(this.ends);
    this.values = grown(this.values);
  }
}

/** address + 1; undefined past the last address. */
function increment(address: ArrayLike<number>): number[] | undefined {
  const words = Array.from(address);
  for (let i = words.length - 1; i >= 0; i--) {
    words[i] = (words[i] + 1) >>> 0;
    if (words[i] !== 0) return words;
  }
  return undefined;
}

/** address − 1 (the caller knows it is not the first address). */
function decrement(address: ArrayLike<number>): number[] {
  const words = Array.from(address);
  for (let i = words.length - 1; i >= 0; i--) {
    const was = words[i];
    words[i] = (was - 1) >>> 0;
    if (was !== 0) break;
  }
  return words;
}

function compare(a: ArrayLike<number>, b: ArrayLike<number>, words: number): number {
  for (let i = 0; i < words; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/** Network-order bytes (4 or 16) as big-endian 32-bit words. */
export function bytesToWords(bytes: readonly number[]): Uint32Array {
  const words = new Uint32Array(bytes.length >> 2);
  for (let i = 0; i < words.length; i++) {
    words[i] = ((bytes[i * 4] << 24) | (bytes[i * 4 + 1] << 16) | (bytes[i * 4 + 2] << 8) | bytes[i * 4 + 3]) >>> 0;
  }
  return words;
}

/** Big-endian words back to network-order bytes. */
export function wordsToBytes(words: ArrayLike<number>): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    bytes.push((word >>> 24) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff);
  }
  return bytes;
}

/**
 * The shortest prefix length p such that the /p block around `address` lies inside [start, end]:
 * the largest CIDR network that holds the address within a range. A range of one address gives
 * the full length (32 or 128).
 */
export function largestBlockWithin(
  address: ArrayLike<number>,
  start: ArrayLike<number>,
  end: ArrayLike<number>,
): number {
  const words = address.length;
  if (words === 1) return largestBlockWithin4(address[0], start[0], end[0]);
  const bits = words * 32;
  const network = new Array<number>(words);
  const broadcast = new Array<number>(words);
  for (let prefix = 0; prefix < bits; prefix++) {
    for (let i = 0; i < words; i++) {
      const kept = Math.min(32, Math.max(0, prefix - i * 32));
      const mask = kept === 0 ? 0 : kept === 32 ? 0xffffffff : (0xffffffff << (32 - kept)) >>> 0;
      network[i] = (address[i] & mask) >>> 0;
      broadcast[i] = (network[i] | (~mask >>> 0)) >>> 0;
    }
    if (compare(network, start, words) >= 0 && compare(broadcast, end, words) <= 0) return prefix;
  }
  return bits;
}

export function largestBlockWithin4(address: number, start: number, end: number): number {
  for (let prefix = 0; prefix < 32; prefix++) {
    const hostBits = 32 - prefix;
    // 2^hostBits as a double: exact, and `>>> 0` tricks fail at 32 host bits.
    const size = 2 ** hostBits;
    const network = address - (address % size);
    if (network >= start && network + size - 1 <= end) return prefix;
  }
  return 32;
}
