import type { ParsedIp } from '../ip-address';
import type { ProviderAnswer } from '../ip-reputation.types';

/**
 * One source of reputation data (AbuseIPDB, the users' own reports, local blocklists). Only public
 * addresses are ever passed in. A provider that cannot answer throws: an `IpSourceError` for
 * failures it understands, the outbound client's typed errors for transport failures.
 */
export interface IpIntelProvider {
  /** Stable name: the `provider` of its source entries, and how stale answers are matched. */
  readonly name: string;
  lookup(ip: ParsedIp): Promise<ProviderAnswer>;
}

/** The configured providers, asked together for each lookup (an array, in response order). */
export const IP_INTEL_PROVIDERS = Symbol('IP_INTEL_PROVIDERS');

/** Short, client-safe codes a source's `error` may carry. */
export type IpSourceErrorCode =
  'timeout' | 'unavailable' | 'circuit-open' | 'rejected' | 'quota-exhausted' | 'bad-response' | 'internal-error';

/** A provider failure with a safe code; `message` is for logs only, never for clients. */
export class IpSourceError extends Error {
  override readonly name = 'IpSourceError';

  constructor(
    readonly code: IpSourceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
