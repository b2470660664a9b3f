import {
  CircuitOpenError,
  UpstreamRejectedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../outbound-http/outbound-http.errors';
import { IpSourceError } from './ip-intel-provider';
import { sourceErrorCode } from './source-error-code';

describe('sourceErrorCode', () => {
  const sut = sourceErrorCode;

  it.each([
    ['a timeout', new UpstreamTimeoutError('abuseipdb'), 'timeout'],
    ['an open circuit', new CircuitOpenError('abuseipdb', 30), 'circuit-open'],
    ['a 5xx or network failure', new UpstreamUnavailableError('abuseipdb', 503), 'unavailable'],
    ['a 4xx rejection', new UpstreamRejectedError('abuseipdb', 422), 'rejected'],
    ['every key spent', new IpSourceError('quota-exhausted', 'all keys paused'), 'quota-exhausted'],
    ['a malformed answer', new IpSourceError('bad-response', 'no score'), 'bad-response'],
    ['anything else', new Error('SELECT * FROM ip_reports'), 'internal-error'],
    ['a thrown string', 'boom', 'internal-error'],
  ])('names %s', (_name, error, code) => {
    expect(sut(error)).toBe(code);
  });
});
