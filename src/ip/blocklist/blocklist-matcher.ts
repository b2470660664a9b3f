import type { ParsedIp } from '../ip-address';
import type { BlocklistEntry } from './blocklist-parser';
import { PrefixTrie } from './prefix-trie';

export interface NamedBlocklist {
  /** Reported to users; by convention the list file's base name without extension. */
  name: string;
  entries: readonly BlocklistEntry[];
}

export interface BlocklistMatcherStats {
  /** Distinct networks per family; one listed by several lists counts once. */
  ipv4Networks: number;
  ipv6Networks: number;
  trieNodes: number;
  trieBytes: number;
}

/**
 * Answers "which of the loaded lists contain this address?" in time proportional to the address
 * length, whatever the number of entries. Built once; to reload lists, build a new matcher.
 */
export class BlocklistMatcher {
  /** Distinct list names in load order; the tries store indexes into it. */
  private readonly names: string[] = [];
  private readonly ipv4 = new PrefixTrie<number>(4);
  private readonly ipv6 = new PrefixTrie<number>(16);

  constructor(lists: readonly NamedBlocklist[]) {
    for (const list of lists) {
      const index = this.indexOf(list.name);
      for (const entry of list.entries) {
        this.trieFor(entry.bytes).insert(entry.bytes, entry.prefixLen, index);
      }
    }
    this.ipv4.compact();
    this.ipv6.compact();
  }

  /** Names of the lists containing the address, in load order; empty when none does. */
  match(parsed: Pick<ParsedIp, 'bytes'>): string[] {
    const hits = this.trieFor(parsed.bytes).match(parsed.bytes);
    return hits === undefined ? [] : hits.sort((a, b) => a - b).map((index) => this.names[index]);
  }

  get listNames(): readonly string[] {
    return this.names;
  }

  /** Size of what was loaded, for logs and metrics. */
  get stats(): BlocklistMatcherStats {
    return {
      ipv4Networks: this.ipv4.size,
      ipv6Networks: this.ipv6.size,
      trieNodes: this.ipv4.nodeCount + this.ipv6.nodeCount,
      trieBytes: this.ipv4.byteLength + this.ipv6.byteLength,
    };
  }

  private indexOf(name: string): number {
    const existing = this.names.indexOf(name);
    if (existing !== -1) {
      return existing;
    }
    this.names.push(name);
    return this.names.length - 1;
  }

  private trieFor(bytes: readonly number[]): PrefixTrie<number> {
    if (bytes.length === 4) {
      return this.ipv4;
    }
    if (bytes.length === 16) {
      return this.ipv6;
    }
    throw new RangeError(`An address has 4 or 16 bytes, got ${bytes.length}.`);
  }
}
