import { basename, extname } from 'node:path';
import { InvalidIpAddressError, parseIpNetwork } from '../ip-address';

/** One network from a list, host bits cleared. `bytes` has 4 (IPv4) or 16 (IPv6) entries. */
export interface BlocklistEntry {
  bytes: number[];
  prefixLen: number;
}

export interface ParsedBlocklist {
  entries: BlocklistEntry[];
  /** Lines that held something other than a comment, a blank, or a recognised address/network. */
  invalidLines: number;
}

/** Lines of the Tor bulk exit list that describe a relay but carry no address. */
const TOR_EXIT_LIST_METADATA = new Set(['ExitNode', 'Published', 'LastStatus']);
const TOR_EXIT_ADDRESS = 'ExitAddress';

/**
 * Reads the plain-text list formats in common use:
 * - one IP or CIDR per line (FireHOL `.netset`/`.ipset`, Tor exit address lists, most feeds);
 * - `#` and `;` comments, whole-line or trailing (Spamhaus DROP: `1.10.16.0/20 ; SBL256894`);
 * - the Tor bulk exit list (`ExitAddress 1.2.3.4 2024-01-01 00:00:00`, other relay lines skipped);
 * - extra whitespace-separated fields after the address (such as a hit count) are ignored.
 * Addresses are parsed as strictly as user input, so an ambiguous `010.1.1.1` is refused, not guessed.
 * Unreadable lines are counted, never thrown.
 */
export function parseBlocklist(text: string): ParsedBlocklist {
  const entries: BlocklistEntry[] = [];
  let invalidLines = 0;
  for (const line of text.split('\n')) {
    const outcome = parseLine(line);
    if (outcome === 'invalid') {
      invalidLines++;
    } else if (outcome !== 'skip') {
      entries.push(outcome);
    }
  }
  return { entries, invalidLines };
}

/** The list's name as reported to users: the file's base name without its extension. */
export function blocklistNameFromFile(filePath: string): string {
  const fileName = basename(filePath);
  return basename(fileName, extname(fileName));
}

function parseLine(line: string): BlocklistEntry | 'skip' | 'invalid' {
  const fields = stripComment(line).trim().split(/\s+/);
  const first = fields[0];
  if (first === '' || TOR_EXIT_LIST_METADATA.has(first)) {
    return 'skip';
  }
  const addressField = first === TOR_EXIT_ADDRESS ? fields[1] : first;
  return addressField === undefined ? 'invalid' : parseNetwork(addressField);
}

function stripComment(line: string): string {
  const hash = line.indexOf('#');
  const semicolon = line.indexOf(';');
  const cut = Math.min(hash === -1 ? line.length : hash, semicolon === -1 ? line.length : semicolon);
  return line.slice(0, cut);
}

function parseNetwork(field: string): BlocklistEntry | 'invalid' {
  try {
    const { bytes, prefixLen } = parseIpNetwork(field);
    return { bytes, prefixLen };
  } catch (error) {
    if (error instanceof InvalidIpAddressError) {
      return 'invalid';
    }
    throw error;
  }
}
