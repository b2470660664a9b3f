import { PrefixTrie } from './prefix-trie';
import { seededRandom } from '../../../test/support/seeded-random';

const v4 = (text: string): number[] => text.split('.').map(Number);

function coversBruteForce(prefix: number[], prefixLen: number, address: number[]): boolean {
  for (let bit = 0; bit < prefixLen; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((prefix[bit >> 3] & mask) !== (address[bit >> 3] & mask)) {
      return false;
    }
  }
  return true;
}

describe('PrefixTrie', () => {
  describe('IPv4', () => {
    let sut: PrefixTrie<string>;

    beforeEach(() => {
      sut = new PrefixTrie<string>(4, 2);
    });

    it('matches nothing when empty', () => {
      expect(sut.match(v4('1.2.3.4'))).toBeUndefined();
      expect(sut.size).toBe(0);
    });

    it('matches an address inside a stored prefix and nothing outside it', () => {
      sut.insert(v4('10.0.0.0'), 8, 'a');
      expect(sut.match(v4('10.255.1.2'))).toEqual(['a']);
      expect(sut.match(v4('10.0.0.0'))).toEqual(['a']);
      expect(sut.match(v4('11.0.0.0'))).toBeUndefined();
      expect(sut.match(v4('9.255.255.255'))).toBeUndefined();
    });

    it('respects prefix edges that fall inside a byte', () => {
      sut.insert(v4('1.10.16.0'), 20, 'drop');
      expect(sut.match(v4('1.10.16.0'))).toEqual(['drop']);
      expect(sut.match(v4('1.10.31.255'))).toEqual(['drop']);
      expect(sut.match(v4('1.10.32.0'))).toBeUndefined();
      expect(sut.match(v4('1.10.15.255'))).toBeUndefined();
    });

    it('ignores host bits on insert', () => {
      sut.insert(v4('10.9.8.7'), 8, 'a');
      expect(sut.match(v4('10.1.1.1'))).toEqual(['a']);
    });

    it('returns every covering value, shortest prefix first, each once', () => {
      sut.insert(v4('10.1.2.3'), 32, 'host');
      sut.insert(v4('10.0.0.0'), 8, 'wide');
      sut.insert(v4('10.1.0.0'), 16, 'mid');
      sut.insert(v4('10.1.0.0'), 16, 'wide');
      expect(sut.match(v4('10.1.2.3'))).toEqual(['wide', 'mid', 'host']);
      expect(sut.match(v4('10.1.9.9'))).toEqual(['wide', 'mid']);
      expect(sut.match(v4('10.2.0.0'))).toEqual(['wide']);
    });

    it('keeps a repeated value for one prefix once', () => {
      sut.insert(v4('1.2.3.4'), 32, 'a');
      sut.insert(v4('1.2.3.4'), 32, 'a');
      sut.insert(v4('1.2.3.4'), 32, 'b');
      expect(sut.match(v4('1.2.3.4'))).toEqual(['a', 'b']);
      expect(sut.size).toBe(1);
    });

    it('matches everything under /0', () => {
      sut.insert(v4('0.0.0.0'), 0, 'all');
      expect(sut.match(v4('255.255.255.255'))).toEqual(['all']);
      expect(sut.match(v4('0.0.0.0'))).toEqual(['all']);
    });

    it('handles a shorter prefix inserted after a longer one (split above)', () => {
      sut.insert(v4('192.168.1.0'), 24, 'narrow');
      sut.insert(v4('192.168.0.0'), 16, 'wide');
      expect(sut.match(v4('192.168.1.9'))).toEqual(['wide', 'narrow']);
      expect(sut.match(v4('192.168.2.9'))).toEqual(['wide']);
    });

    it('handles siblings that part ways mid-byte (join node)', () => {
      sut.insert(v4('192.168.1.0'), 24, 'one');
      sut.insert(v4('192.168.3.0'), 24, 'three');
      expect(sut.match(v4('192.168.1.1'))).toEqual(['one']);
      expect(sut.match(v4('192.168.3.1'))).toEqual(['three']);
      expect(sut.match(v4('192.168.2.1'))).toBeUndefined();
      // The join node at 192.168.0.0/22 carries no value of its own.
      sut.insert(v4('192.168.0.0'), 22, 'join');
      expect(sut.match(v4('192.168.2.1'))).toEqual(['join']);
      expect(sut.match(v4('192.168.3.1'))).toEqual(['join', 'three']);
    });

    it('keeps node count below twice the number of prefixes', () => {
      for (let i = 0; i < 200; i++) {
        sut.insert([i, i, 0, 0], 16 + (i % 17), 'x');
      }
      expect(sut.size).toBe(200);
      expect(sut.nodeCount).toBeLessThan(2 * sut.size + 1);
    });

    it('gives back spare capacity on compact and still accepts inserts', () => {
      const roomy = new PrefixTrie<string>(4, 4096);
      roomy.insert(v4('10.0.0.0'), 8, 'a');
      const before = roomy.byteLength;
      roomy.compact();
      expect(roomy.byteLength).toBeLessThan(before / 100);
      roomy.insert(v4('10.1.0.0'), 16, 'b');
      roomy.insert(v4('10.1.0.0'), 16, 'c');
      roomy.insert(v4('11.0.0.0'), 8, 'd');
      expect(roomy.match(v4('10.1.2.3'))).toEqual(['a', 'b', 'c']);
      expect(roomy.match(v4('11.1.2.3'))).toEqual(['d']);
    });

    it('refuses a wrong-sized address or prefix length', () => {
      expect(() => sut.insert([1, 2, 3], 8, 'x')).toThrow(RangeError);
      expect(() => sut.insert(v4('1.2.3.4'), 33, 'x')).toThrow(RangeError);
      expect(() => sut.insert(v4('1.2.3.4'), -1, 'x')).toThrow(RangeError);
      expect(() => sut.insert(v4('1.2.3.4'), 1.5, 'x')).toThrow(RangeError);
      expect(() => sut.match(new Array(16).fill(0))).toThrow(RangeError);
    });
  });

  describe('IPv6', () => {
    const v6 = (...groups: number[]): number[] => {
      const padded = [...groups, ...new Array(8 - groups.length).fill(0)];
      return padded.flatMap((group) => [group >> 8, group & 0xff]);
    };

    it('matches 128-bit prefixes', () => {
      const sut = new PrefixTrie<string>(16);
      sut.insert(v6(0x2001, 0xdb8), 32, 'doc');
      sut.insert(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), 128, 'host');
      expect(sut.match(v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))).toEqual(['doc', 'host']);
      expect(sut.match(v6(0x2001, 0xdb8, 0xffff))).toEqual(['doc']);
      expect(sut.match(v6(0x2001, 0xdb9))).toBeUndefined();
    });
  });

  describe('against a brute-force scan', () => {
    it.each([
      [4, 1],
      [4, 2],
      [16, 3],
      [16, 4],
    ] as const)('agrees on random prefixes and addresses (%i-byte addresses)', (addressBytes, seed) => {
      const random = seededRandom(seed);
      const byte = (): number => Math.floor(random() * 4) * 64 + Math.floor(random() * 2);
      const address = (): number[] => Array.from({ length: addressBytes }, byte);
      const prefixes = Array.from({ length: 1000 }, (_, index) => ({
        bytes: address(),
        prefixLen: Math.floor(random() * (addressBytes * 8 + 1)),
        value: index % 7,
      }));
      const sut = new PrefixTrie<number>(addressBytes, 2);
      prefixes.forEach((prefix) => sut.insert(prefix.bytes, prefix.prefixLen, prefix.value));

      for (let i = 0; i < 2000; i++) {
        const probe = i % 2 === 0 ? address() : prefixes[i % prefixes.length].bytes;
        const expected = [
          ...new Set(
            prefixes
              .filter((prefix) => coversBruteForce(prefix.bytes, prefix.prefixLen, probe))
              .map((prefix) => prefix.value),
          ),
        ].sort();
        expect([...(sut.match(probe) ?? [])].sort()).toEqual(expected);
      }
    });
  });
});
