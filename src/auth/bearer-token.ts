/**
 * `Authorization: Bearer <token>` (RFC 6750 §2.1): the scheme in any case, one or more spaces,
 * then exactly one token68 (letters, digits, `-._~+/`, trailing `=`) and nothing after it. The one
 * parser for every bearer header Argus reads: the API's access tokens and the /metrics token.
 */
const BEARER_HEADER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of a well-formed bearer header; undefined for anything else (401 for the caller). */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.length > MAX_HEADER_LENGTH) return undefined;
  return BEARER_HEADER.exec(authorization)?.[1];
}

/** Far above any token Argus or an identity provider issues; keeps the regex on short input. */
const MAX_HEADER_LENGTH = 8192;
