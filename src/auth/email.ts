/**
 * One spelling per address (docs/api.md, "Accounts and tokens"): NFKC first, so full-width letters,
 * ligatures and other compatibility forms fold into the plain ones, then trimmed and lower-cased.
 * Used for registrations, logins, identity-provider claims and ADMIN_EMAILS alike.
 */
export function normaliseEmail(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

/**
 * Invisible or format characters (Unicode Cc and Cf: zero-width space and joiners, soft hyphen,
 * bidirectional marks and overrides, controls) and lone surrogates: refused in an email, so two
 * spellings that look alike are never two accounts.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}]/u;

export function hasInvisibleCharacters(value: string): boolean {
  return INVISIBLE.test(value);
}
