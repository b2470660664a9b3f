import type { AnalysisMetadata } from './analysis.types';

export const METADATA_MAX_BYTES = 4096;
export const METADATA_MAX_KEYS = 32;
export const METADATA_MAX_STRING_LENGTH = 512;
export const METADATA_KEY_PATTERN = /^[a-zA-Z0-9_.-]{1,64}$/;
/** Keys that would reach Object.prototype when the metadata is spread or assigned somewhere. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type MetadataParseResult = { ok: true; value: AnalysisMetadata } | { ok: false; problems: string[] };

/**
 * Parses the `metadata` form field (docs/api.md, Image analysis): a JSON object of at most 4 KiB (UTF-8 bytes of
 * the field), 32 keys matching `^[a-zA-Z0-9_.-]{1,64}$`, values a string of at most 512 characters,
 * a finite number or a boolean. Every problem is reported, not just the first.
 */
export function parseAnalysisMetadata(raw: string): MetadataParseResult {
  if (Buffer.byteLength(raw, 'utf8') > METADATA_MAX_BYTES) {
    return { ok: false, problems: [`must be at most ${METADATA_MAX_BYTES} bytes of JSON`] };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, problems: ['must be a JSON object, e.g. {"album":"holidays"}'] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problems: ['must be a JSON object, e.g. {"album":"holidays"}'] };
  }

  const entries = Object.entries(parsed);
  const problems: string[] = [];
  if (entries.length > METADATA_MAX_KEYS) problems.push(`must have at most ${METADATA_MAX_KEYS} keys`);
  for (const [key, value] of entries) {
    const problem = keyProblem(key) ?? valueProblem(value);
    if (problem) problems.push(`${JSON.stringify(key.slice(0, 80))}: ${problem}`);
  }
  if (problems.length > 0) return { ok: false, problems };

  return { ok: true, value: parsed as AnalysisMetadata };
}

function keyProblem(key: string): string | undefined {
  if (!METADATA_KEY_PATTERN.test(key)) return 'key must match ^[a-zA-Z0-9_.-]{1,64}$';
  if (RESERVED_KEYS.has(key)) return 'key is reserved';
  return undefined;
}

function valueProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > METADATA_MAX_STRING_LENGTH
        ? `string values must be at most ${METADATA_MAX_STRING_LENGTH} characters`
        : undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : 'numbers must be finite';
    case 'boolean':
      return undefined;
    default:
      return 'values must be a string, a number or a boolean';
  }
}
