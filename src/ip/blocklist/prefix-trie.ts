/**
 * Path-compressed binary (Patricia) trie of CIDR prefixes for one address family.
 *
 * Each node is a prefix; a node exists only where a prefix was inserted or where two stored
 * prefixes part ways, so n prefixes need fewer than 2n nodes whatever their lengths. Nodes live in
 * typed arrays (struct of arrays) rather than objects: about 30 bytes per IPv6 node, no per-node
 * garbage-collector overhead. Values hang off their node as a linked list in two flat arrays, so
 * the common case (one value per prefix) costs one array slot, not an array per node.
 *
 * A lookup walks at most one node per bit of the address and compares each address bit once:
 * O(address length), independent of the number of prefixes.
 */
export class PrefixTrie<V> {
  private readonly bits: number;
  private capacity: number;
  private count = 1;
  /** Prefix bits of each node, host bits zero: node i at [i * addressBytes, (i + 1) * addressBytes). */
  private keys: Uint8Array;
  private prefixLens: Uint8Array;
  /** children[2i] / children[2i + 1]: the child whose next bit is 0 / 1. 0 means none (the root is nobody's child). */
  private children: Uint32Array;
  /** First value of each node, 1-based into `values`; 0 means the node only joins two branches. */
  private valueHeads: Uint32Array;
  /** Next value of the same node, 1-based into `values`; 0 ends the list. */
  private valueNext: Uint32Array;
  private readonly values: V[] = [];
  private prefixCount = 0;

  constructor(
    readonly addressBytes: 4 | 16,
    initialCapacity = 1024,
  ) {
    this.bits = addressBytes * 8;
    this.capacity = Math.max(2, initialCapacity);
    this.keys = new Uint8Array(this.capacity * addressBytes);
    this.prefixLens = new Uint8Array(this.capacity);
    this.children = new Uint32Array(this.capacity * 2);
    this.valueHeads = new Uint32Array(this.capacity);
    this.valueNext = new Uint32Array(this.capacity);
    // Node 0 is the root, the zero-length prefix that covers every address.
  }

  /** Number of distinct prefixes stored. */
  get size(): number {
    return this.prefixCount;
  }

  /** Number of trie nodes, for memory accounting. */
  get nodeCount(): number {
    return this.count;
  }

  /** Bytes held by the node and value-link arrays (the values themselves are one JS array slot each). */
  get byteLength(): number {
    return [this.keys, this.prefixLens, this.children, this.valueHeads, this.valueNext].reduce(
      (total, array) => total + array.byteLength,
      0,
    );
  }

  /** Releases the spare capacity left by growth; call once loading is done. Later inserts still work. */
  compact(): void {
    this.resize(Math.max(2, this.count));
    this.valueNext = resizedWords(this.valueNext, Math.max(1, this.values.length));
  }

  /** Stores `value` under the prefix; host bits beyond prefixLen are ignored. A repeated value is kept once. */
  insert(bytes: ArrayLike<number>, prefixLen: number, value: V): void {
    this.assertAddress(bytes);
    this.assertPrefixLen(prefixLen);
    let parent = 0;
    let node = 0;
    for (;;) {
      const nodeLen = this.prefixLens[node];
      const common = this.commonPrefix(node, bytes, this.prefixLens[parent], Math.min(nodeLen, prefixLen));
      if (common < nodeLen) {
        this.splitAbove(parent, node, bytes, prefixLen, common, value);
        return;
      }
      if (nodeLen === prefixLen) {
        this.addValue(node, value);
        return;
      }
      const branch = this.childIndex(node, bitAt(bytes, 0, nodeLen));
      if (this.children[branch] === 0) {
        const leaf = this.allocateWithValue(bytes, prefixLen, value); // before indexing: may grow the arrays
        this.children[branch] = leaf;
        return;
      }
      parent = node;
      node = this.children[branch];
    }
  }

  /**
   * Every value whose prefix covers the address, each once, from the shortest prefix to the longest
   * (so the last one belongs to the longest match); undefined when no prefix covers it.
   */
  match(bytes: ArrayLike<number>): V[] | undefined {
    this.assertAddress(bytes);
    let found: V[] | undefined;
    let node = 0;
    let checkedBits = 0;
    for (;;) {
      const nodeLen = this.prefixLens[node];
      if (this.commonPrefix(node, bytes, checkedBits, nodeLen) < nodeLen) {
        return found;
      }
      found = this.collect(node, found);
      if (nodeLen === this.bits) {
        return found;
      }
      const child = this.children[this.childIndex(node, bitAt(bytes, 0, nodeLen))];
      if (child === 0) {
        return found;
      }
      checkedBits = nodeLen;
      node = child;
    }
  }

  /**
   * The new prefix leaves `node`'s path after `common` bits, short of the node's own length.
   * Either the new prefix ends right there (it becomes node's parent), or a join node at `common`
   * takes node and a new leaf as its two children.
   */
  private splitAbove(
    parent: number,
    node: number,
    bytes: ArrayLike<number>,
    prefixLen: number,
    common: number,
    value: V,
  ): void {
    const nodeBit = bitAt(this.keys, node * this.addressBytes, common);
    const parentBranch = this.childIndex(parent, bitAt(bytes, 0, this.prefixLens[parent]));
    // Allocate before indexing `this.children`: allocation may grow, i.e. replace, the arrays.
    // (`this.children[i] = this.allocate()` would write into the old array.)
    let above: number;
    if (common === prefixLen) {
      above = this.allocateWithValue(bytes, prefixLen, value);
    } else {
      above = this.allocate(bytes, common);
      const leaf = this.allocateWithValue(bytes, prefixLen, value);
      this.children[this.childIndex(above, bitAt(bytes, 0, common))] = leaf;
    }
    this.children[this.childIndex(above, nodeBit)] = node;
    this.children[parentBranch] = above;
  }

  private allocate(bytes: ArrayLike<number>, prefixLen: number): number {
    if (this.count === this.capacity) {
      this.grow();
    }
    const node = this.count++;
    this.writeKey(node, bytes, prefixLen);
    this.prefixLens[node] = prefixLen;
    return node;
  }

  private allocateWithValue(bytes: ArrayLike<number>, prefixLen: number, value: V): number {
    const node = this.allocate(bytes, prefixLen);
    this.addValue(node, value);
    return node;
  }

  private writeKey(node: number, bytes: ArrayLike<number>, prefixLen: number): void {
    const offset = node * this.addressBytes;
    for (let i = 0; i < this.addressBytes; i++) {
      const bitsKept = Math.min(8, Math.max(0, prefixLen - i * 8));
      this.keys[offset + i] = bytes[i] & (0xff << (8 - bitsKept));
    }
  }

  private addValue(node: number, value: V): void {
    let slot = this.valueHeads[node];
    if (slot === 0) {
      const appended = this.appendValue(value);
      this.valueHeads[node] = appended;
      this.prefixCount++;
      return;
    }
    for (;;) {
      if (this.values[slot - 1] === value) {
        return;
      }
      const next = this.valueNext[slot - 1];
      if (next === 0) {
        const appended = this.appendValue(value);
        this.valueNext[slot - 1] = appended;
        return;
      }
      slot = next;
    }
  }

  /** Stores the value unlinked and returns its 1-based slot. */
  private appendValue(value: V): number {
    if (this.values.length === this.valueNext.length) {
      this.valueNext = resizedWords(this.valueNext, this.valueNext.length * 2);
    }
    this.values.push(value);
    return this.values.length;
  }

  private collect(node: number, found: V[] | undefined): V[] | undefined {
    let slot = this.valueHeads[node];
    if (slot === 0) {
      return found;
    }
    const result = found ?? [];
    for (; slot !== 0; slot = this.valueNext[slot - 1]) {
      const value = this.values[slot - 1];
      if (!result.includes(value)) {
        result.push(value);
      }
    }
    return result;
  }

  /**
   * How many leading bits node's key shares with `bytes`, at most `limit`. Bits before `fromBit`
   * are known to be equal already, so the comparison starts at their byte.
   */
  private commonPrefix(node: number, bytes: ArrayLike<number>, fromBit: number, limit: number): number {
    const offset = node * this.addressBytes;
    const endByte = (limit + 7) >> 3;
    for (let i = fromBit >> 3; i < endByte; i++) {
      const diff = (this.keys[offset + i] ^ bytes[i]) & 0xff;
      if (diff !== 0) {
        return Math.min(limit, i * 8 + Math.clz32(diff) - 24);
      }
    }
    return limit;
  }

  private childIndex(node: number, bit: number): number {
    return node * 2 + bit;
  }

  private grow(): void {
    this.resize(this.capacity * 2);
  }

  private resize(capacity: number): void {
    this.capacity = capacity;
    this.keys = resizedBytes(this.keys, this.capacity * this.addressBytes);
    this.prefixLens = resizedBytes(this.prefixLens, this.capacity);
    this.children = resizedWords(this.children, this.capacity * 2);
    this.valueHeads = resizedWords(this.valueHeads, this.capacity);
  }

  private assertAddress(bytes: ArrayLike<number>): void {
    if (bytes.length !== this.addressBytes) {
      throw new RangeError(`Expected a ${this.addressBytes}-byte address, got ${bytes.length} bytes.`);
    }
  }

  private assertPrefixLen(prefixLen: number): void {
    if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > this.bits) {
      throw new RangeError(`Prefix length must be an integer from 0 to ${this.bits}, got ${prefixLen}.`);
    }
  }
}

function bitAt(bytes: ArrayLike<number>, offset: number, bit: number): number {
  return (bytes[offset + (bit >> 3)] >> (7 - (bit & 7))) & 1;
}

function resizedBytes(array: Uint8Array, length: number): Uint8Array {
  const copy = new Uint8Array(length);
  copy.set(array.subarray(0, length));
  return copy;
}

function resizedWords(array: Uint32Array, length: number): Uint32Array {
  const copy = new Uint32Array(length);
  copy.set(array.subarray(0, length));
  return copy;
}
