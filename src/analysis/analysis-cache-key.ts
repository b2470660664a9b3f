import { createHash } from 'node:crypto';

/**
 * Bump when the instructions, the output schema or the output handling change in a way that makes
 * earlier answers wrong for the same image and prompt: every cached answer is then a miss.
 */
export const PROMPT_VERSION = 'v1';

/** The `cache` label of the analysis cache in `argus_cache_requests_total`. */
export const ANALYSIS_CACHE_NAME = 'analysis';

export interface AnalysisCacheKeyParts {
  /** sha256 (hex) of the uploaded bytes. */
  sha256: string;
  /** Trimmed prompt, or undefined for none. */
  prompt: string | undefined;
  provider: string;
  model: string;
}

/**
 * One key per (upload, prompt, provider, model, prompt version). The parts are hashed as a JSON
 * array, so no choice of prompt can make two different tuples collide (`a|b` + `c` vs `a` + `b|c`).
 */
export function analysisCacheKey({ sha256, prompt, provider, model }: AnalysisCacheKeyParts): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([PROMPT_VERSION, provider, model, sha256, prompt ?? null]))
    .digest('hex');
  return `analysis:${PROMPT_VERSION}:${digest}`;
}

/**
 * The key under which an answer is shared (the Redis cache and the single-flight lock): the
 * answer's key itself in the `global` scope; in the `user` scope (ANALYSIS_CACHE_SCOPE) that key
 * within one user's own answers, so no user's upload is answered from — or reveals — another's.
 */
export function sharedCacheKey(cacheKey: string, scopeUserId: string | undefined): string {
  return scopeUserId === undefined ? cacheKey : `${cacheKey}:user:${scopeUserId}`;
}
