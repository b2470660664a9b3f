import {
  CircuitOpenError,
  UpstreamRejectedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../outbound-http/outbound-http.errors';
import { IpSourceError, IpSourceErrorCode } from './ip-intel-provider';

/**
 * The short code a failed source shows clients. Never the upstream's message or body: those stay
 * in the logs. Anything unrecognised is a bug or an outage of ours: `internal-error`.
 */
export function sourceErrorCode(error: unknown): IpSourceErrorCode {
  if (error instanceof IpSourceError) return error.code;
  if (error instanceof UpstreamTimeoutError) return 'timeout';
  if (error instanceof CircuitOpenError) return 'circuit-open';
  if (error instanceof UpstreamRejectedError) return 'rejected';
  if (error instanceof UpstreamUnavailableError) return 'unavailable';
  return 'internal-error';
}
