import type { FieldError } from '../errors/problem';
import { isMalformedText } from './text';

/** The deepest nesting a JSON body may have; the body object itself is level 1. */
export const MAX_JSON_DEPTH = 32;

/**
 * Keys that name JavaScript's object machinery. They are unknown properties of every DTO and are
 * refused wherever they appear, never silently dropped (docs/api.md, "Request hygiene").
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** At most this many problems are reported for one body. */
const MAX_REPORTED = 10;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when JSON text nests objects and arrays deeper than `maxDepth`. One pass over the text, no
 * recursion, no parse: it runs before anything recursive (JSON.parse, class-transformer,
 * class-validator) touches the body. Brackets inside strings are text.
 */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === BACKSLASH) index++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Problems in a parsed body or query that no DTO may see: reserved keys anywhere (as unknown
 * fields) and strings — keys or values — that are not well-formed UTF-16 (a lone surrogate makes
 * validators such as `isEmail` throw and PostgreSQL refuse the text). Iterative; the depth was
 * bounded before parsing.
 */
export function bodyShapeProblems(value: unknown): FieldError[] {
  const problems: FieldError[] = [];
  const pending: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (pending.length > 0 && problems.length < MAX_REPORTED) {
    const { value: current, path } = pending.pop()!;
    if (typeof current === 'string') {
      if (isMalformedText(current))
        problems.push({ field: path || 'body', message: 'malformed text (a lone UTF-16 surrogate)' });
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        pending.push({ value: current[index], path: join(path, String(index)) });
      }
      continue;
    }
    for (const key of Object.keys(current)) {
      if (RESERVED_KEYS.has(key)) {
        problems.push({ field: join(path, key), message: 'unknown field' });
      } else if (isMalformedText(key)) {
        problems.push({ field: join(path, '?'), message: 'malformed text in a field name (a lone UTF-16 surrogate)' });
      } else {
        pending.push({ value: (current as Record<string, unknown>)[key], path: join(path, key) });
      }
    }
  }
  return problems;
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
