import type { AnalysisResult } from '../analysis.types';

export const MAX_SUMMARY_LENGTH = 2000;
export const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 64;
/** A model's `details` is stored and returned as is; this bounds what one answer can put in the database. */
export const MAX_DETAILS_BYTES = 16 * 1024;

export type VisionOutputCheck = { ok: true; result: AnalysisResult } | { ok: false; reason: string };

/**
 * Validates a model's message content against the result schema (docs/api.md, Image analysis): JSON with a
 * non-empty `summary` string, `tags` an array of strings, `details` an object. Tags are trimmed,
 * lower-cased and de-duplicated; empty ones are dropped. Anything else is refused with a reason
 * (for logs — never shown to clients).
 */
export function parseVisionOutput(content: string | null | undefined): VisionOutputCheck {
  if (typeof content !== 'string' || content.trim() === '') return { ok: false, reason: 'empty content' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return { ok: false, reason: 'content is not JSON' };
  }
  if (!isPlainObject(parsed)) return { ok: false, reason: 'content is not a JSON object' };

  const { summary, tags, details } = parsed;
  if (typeof summary !== 'string' || summary.trim() === '') return { ok: false, reason: 'summary missing or empty' };
  if (summary.length > MAX_SUMMARY_LENGTH) return { ok: false, reason: 'summary too long' };
  if (!Array.isArray(tags) || !tags.every((tag): tag is string => typeof tag === 'string')) {
    return { ok: false, reason: 'tags is not an array of strings' };
  }
  if (!isPlainObject(details)) return { ok: false, reason: 'details is not an object' };
  if (Buffer.byteLength(JSON.stringify(details), 'utf8') > MAX_DETAILS_BYTES) {
    return { ok: false, reason: 'details too large' };
  }
  return { ok: true, result: { summary: summary.trim(), tags: normaliseTags(tags), details } };
}

function normaliseTags(tags: string[]): string[] {
  const cleaned = tags.map((tag) => tag.trim().toLowerCase()).filter((tag) => tag !== '' && tag.length <= MAX_TAG_LENGTH);
  return [...new Set(cleaned)].slice(0, MAX_TAGS);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
