/** Why a string is refused (docs/api.md, "Request hygiene"). */
export type TextProblem = 'control-character' | 'malformed';

/**
 * C0 controls (U+0000–U+001F), DEL and C1 controls (U+007F–U+009F). Tab, LF and CR are allowed
 * in free text only (`multiline`).
 */
// eslint-disable-next-line no-control-regex -- control characters are what these look for
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** A UTF-16 surrogate without its partner: not text in any encoding (PostgreSQL, bcrypt, URIs refuse it). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function textProblem(text: string, multiline = false): TextProblem | undefined {
  if (LONE_SURROGATE.test(text)) return 'malformed';
  if ((multiline ? CONTROL_EXCEPT_LINE_BREAKS : CONTROL).test(text)) return 'control-character';
  return undefined;
}

export function isMalformedText(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

export function textProblemMessage(field: string, problem: TextProblem, multiline = false): string {
  if (problem === 'malformed') return `${field} is malformed text (a lone UTF-16 surrogate)`;
  return multiline
    ? `${field} must not contain control characters (tab, CR and LF are allowed)`
    : `${field} must not contain control characters`;
}
