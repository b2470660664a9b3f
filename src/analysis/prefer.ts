/** The longest wait a client may ask for with `Prefer: wait=N` (docs/api.md, Image analysis). */
export const MAX_WAIT_S = 60;

export interface Preferences {
  /** `respond-async`: answer 202 at once instead of waiting for the job. */
  respondAsync: boolean;
  /** `wait=N` in seconds, capped at MAX_WAIT_S; undefined when absent or malformed. */
  waitS?: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DELTA_SECONDS = /^[0-9]{1,10}$/;

/**
 * Reads the `Prefer` request header(s) (RFC 7240). Preferences it does not understand, and
 * malformed ones, are ignored — a preference is a hint, never a reason to refuse the request. Of
 * a preference given twice, the first counts (RFC 7240 §2).
 */
export function parsePrefer(header: string | string[] | undefined): Preferences {
  const preferences: Preferences = { respondAsync: false };
  const seen = new Set<string>();
  const values = Array.isArray(header) ? header : header === undefined ? [] : [header];
  for (const preference of values.flatMap(splitOutsideQuotes)) {
    const [head] = splitParameters(preference);
    const equals = head.indexOf('=');
    const name = (equals === -1 ? head : head.slice(0, equals)).trim().toLowerCase();
    if (!TOKEN.test(name) || seen.has(name)) continue;
    seen.add(name);
    const value = equals === -1 ? undefined : unquote(head.slice(equals + 1).trim());
    if (name === 'respond-async' && value === undefined) preferences.respondAsync = true;
    if (name === 'wait' && value !== undefined && DELTA_SECONDS.test(value)) {
      preferences.waitS = Math.min(Number(value), MAX_WAIT_S);
    }
  }
  return preferences;
}

/** The `Preference-Applied` value for what was honoured, or undefined. */
export function appliedPreferences(respondAsync: boolean, waitS: number | undefined): string | undefined {
  const applied = [respondAsync ? 'respond-async' : undefined, waitS === undefined ? undefined : `wait=${waitS}`];
  const text = applied.filter(Boolean).join(', ');
  return text === '' ? undefined : text;
}

/** Splits on `,` outside double quotes. */
function splitOutsideQuotes(text: string): string[] {
  return splitOn(text, ',');
}

/** A preference and its `;`-parameters (which no preference used here has). */
function splitParameters(text: string): string[] {
  return splitOn(text, ';');
}

function splitOn(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    if (char === '\\' && quoted && i + 1 < text.length) {
      current += char + text[++i];
      continue;
    }
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== '');
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}
