import { BlocklistEntry, parseBlocklist } from '../blocklist/blocklist-parser';
import { InvalidIpAddressError, parseIpNetwork } from '../ip-address';

export type FeedFormat = 'spamhaus-json' | 'plain';

export interface ParsedFeed {
  format: FeedFormat;
  entries: BlocklistEntry[];
  invalidLines: number;
}

/**
 * Reads a feed body: Spamhaus DROP/EDROP JSON lines (`{"cidr":"1.10.16.0/20","sblid":…}` per line,
 * a final `{"type":"metadata",…}` line), or any plain list `parseBlocklist` reads (FireHOL netsets,
 * one IP/CIDR per line, the Tor bulk exit list, Spamhaus' older `1.10.16.0/20 ; SBL256894` text).
 * The format is told by the first line that is not blank or a comment.
 */
export function parseFeed(text: string): ParsedFeed {
  const firstLine = text.split('\n').find((line) => line.trim() !== '' && !/^\s*[#;]/.test(line)) ?? '';
  if (!firstLine.trimStart().startsWith('{')) return { format: 'plain', ...parseBlocklist(text) };
  const entries: BlocklistEntry[] = [];
  let invalidLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const record = parseJson(line);
    if (record !== undefined && record.type === 'metadata') continue;
    const cidr = record?.cidr;
    const entry = typeof cidr === 'string' ? parseEntry(cidr) : undefined;
    if (entry === undefined) invalidLines++;
    else entries.push(entry);
  }
  return { format: 'spamhaus-json', entries, invalidLines };
}

/**
 * Why a parsed body is refused (the feed then keeps its last good copy), or undefined when it is
 * good: a feed with no entry at all, or with more unreadable lines than entries (an HTML error
 * page, a truncated or foreign file), is not swapped in.
 */
export function refusalReason(parsed: ParsedFeed): string | undefined {
  if (parsed.entries.length === 0) return 'no valid entry';
  if (parsed.invalidLines > parsed.entries.length) return 'more invalid lines than entries';
  return undefined;
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function parseEntry(text: string): BlocklistEntry | undefined {
  try {
    const { bytes, prefixLen } = parseIpNetwork(text.trim());
    return { bytes, prefixLen };
  } catch (error) {
    if (error instanceof InvalidIpAddressError) return undefined;
    throw error;
  }
}
