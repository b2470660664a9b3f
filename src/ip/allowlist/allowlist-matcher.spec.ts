import { parseIpAddress } from '../ip-address';
import { AllowlistMatcher, canonicalAllowlistValue } from './allowlist-matcher';

describe('canonicalAllowlistValue', () => {
  it.each([
    ['192.0.2.77/24', '192.0.2.0/24'],
    ['8.8.8.8', '8.8.8.8/32'],
    ['2001:DB8:0::/32', '2001:db8::/32'],
    ['::ffff:1.2.3.4', '1.2.3.4/32'],
    ['as15169', 'AS15169'],
  ])('%s → %s', (raw, value) => {
    expect(canonicalAllowlistValue(raw)?.value).toBe(value);
  });

  it.each(['', 'AS', 'AS99999999999', '1.2.3.4/33', '010.1.1.1', 'example.com'])('refuses %p', (raw) => {
    expect(canonicalAllowlistValue(raw)).toBeUndefined();
  });
});

describe('AllowlistMatcher', () => {
  const now = Date.parse('2030-06-01T00:00:00Z');
  const sut = new AllowlistMatcher([
    { value: '45.60.0.0/16' },
    { value: '2001:db8::/32' },
    { value: 'AS13335' },
    { value: '45.61.0.0/24', expiresAt: now - 1 },
  ]);
  const bytes = (ip: string): number[] => parseIpAddress(ip).bytes;

  it('matches networks of both families and AS numbers', () => {
    expect(sut.match(bytes('45.60.1.1'), null, now)?.value).toBe('45.60.0.0/16');
    expect(sut.match(bytes('2001:db8::1'), null, now)?.value).toBe('2001:db8::/32');
    expect(sut.match(bytes('1.1.1.1'), 13335, now)?.value).toBe('AS13335');
    expect(sut.match(bytes('1.1.1.1'), 15169, now)).toBeUndefined();
    expect(sut.hasAsnRules).toBe(true);
  });

  it('ignores an expired entry', () => {
    expect(sut.match(bytes('45.61.0.9'), null, now)).toBeUndefined();
    expect(sut.match(bytes('45.61.0.9'), null, now - 10)?.value).toBe('45.61.0.0/24');
  });
});
