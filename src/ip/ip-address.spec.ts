import {
  InvalidIpAddressError,
  InvalidIpReason,
  IpScope,
  clearHostBits,
  isPublicScope,
  parseIpAddress,
  parseIpNetwork,
} from './ip-address';

function thrownBy(action: () => unknown): InvalidIpAddressError | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof InvalidIpAddressError) {
      return error;
    }
    throw error;
  }
}

const reasonOf = (action: () => unknown): InvalidIpReason | undefined => thrownBy(action)?.reason;

describe('parseIpAddress', () => {
  const sut = parseIpAddress;

  describe('IPv4', () => {
    it('returns canonical text, version and network-order bytes', () => {
      expect(sut('8.8.4.4')).toEqual({ ip: '8.8.4.4', version: 4, scope: 'public', bytes: [8, 8, 4, 4] });
    });

    it.each(['0.0.0.0', '255.255.255.255', '1.0.0.0', '10.20.30.40'])('accepts %s', (text) => {
      expect(sut(text).ip).toBe(text);
    });
  });

  describe('IPv6', () => {
    it.each([
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['FE80:0:0:0:0:0:0:1', 'fe80::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['2606:4700:4700:0:0:0:0:1111', '2606:4700:4700::1111'],
      ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
    ])('canonicalises %s to %s (RFC 5952)', (text, canonical) => {
      expect(sut(text).ip).toBe(canonical);
    });

    it('returns 16 network-order bytes', () => {
      const parsed = sut('2001:db8::ff01');
      expect(parsed.version).toBe(6);
      expect(parsed.bytes).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x01]);
    });
  });

  describe('IPv4-mapped IPv6', () => {
    it.each([
      ['::ffff:10.0.0.1', '10.0.0.1', 'private'],
      ['::FFFF:8.8.8.8', '8.8.8.8', 'public'],
      ['::ffff:a00:1', '10.0.0.1', 'private'],
      ['0:0:0:0:0:ffff:127.0.0.1', '127.0.0.1', 'loopback'],
    ])('folds %s to the IPv4 address %s', (text, ip, scope) => {
      expect(sut(text)).toEqual({ ip, version: 4, scope, bytes: ip.split('.').map(Number) });
    });
  });

  describe('scopes', () => {
    it.each<[string, IpScope]>([
      ['8.8.8.8', 'public'],
      ['1.1.1.1', 'public'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['169.254.10.20', 'link-local'],
      ['224.0.0.251', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['100.64.0.1', 'carrier-grade-nat'],
      ['100.127.255.255', 'carrier-grade-nat'],
      ['192.0.2.1', 'documentation'],
      ['198.51.100.7', 'documentation'],
      ['203.0.113.200', 'documentation'],
      ['198.18.0.1', 'benchmarking'],
      ['198.19.255.255', 'benchmarking'],
      ['192.0.0.8', 'reserved'],
      ['192.88.99.1', 'reserved'],
      ['240.0.0.1', 'reserved'],
      ['0.1.2.3', 'reserved'],
      ['0.0.0.0', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['192.31.196.1', 'as112'],
      ['192.175.48.6', 'as112'],
      ['192.52.193.1', 'amt'],
    ])('IPv4 %s is %s', (text, scope) => {
      expect(sut(text).scope).toBe(scope);
    });

    it.each<[string, IpScope]>([
      ['2001:4860:4860::8888', 'public'],
      ['2a00:1450:4001:81b::200e', 'public'],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['fe80::1', 'link-local'],
      ['febf:ffff::1', 'link-local'],
      ['ff02::1', 'multicast'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456:789a::1', 'unique-local'],
      ['fec0::1', 'site-local'],
      ['100::1', 'discard'],
      ['::ffff:0:1.2.3.4', 'ipv4-translated'],
      ['64:ff9b::808:808', 'nat64'],
      ['64:ff9b:1::1', 'nat64'],
      ['2002:c000:204::1', '6to4'],
      ['2001:0:4136:e378::1', 'teredo'],
      ['2001:2::1', 'benchmarking'],
      ['2001:3::1', 'amt'],
      ['2001:4:112::1', 'as112'],
      ['2620:4f:8000::1', 'as112'],
      ['2001:10::1', 'orchid'],
      ['2001:20::1', 'orchid'],
      ['2001:30::1', 'drone-remote-id'],
      ['5f00::1', 'segment-routing'],
      ['2001:db8::1', 'documentation'],
      ['3fff::1', 'documentation'],
      ['2001:100::1', 'reserved'],
      ['4000::1', 'reserved'],
      ['::2', 'reserved'],
    ])('IPv6 %s is %s', (text, scope) => {
      expect(sut(text).scope).toBe(scope);
    });
  });

  describe('refuses', () => {
    it.each<[string, string, InvalidIpReason]>([
      ['empty', '', 'empty'],
      ['a 5000-character string', '1'.repeat(5000), 'too-long'],
      ['65 characters', `${'1:'.repeat(32)}1`, 'too-long'],
      ['64 characters, within the bound but malformed', `${'1:'.repeat(31)}12`, 'malformed'],
      ['an octet above 255', '999.1.1.1', 'malformed'],
      ['256 in the last octet', '1.2.3.256', 'malformed'],
      ['three parts', '1.2.3', 'non-canonical-ipv4'],
      ['two parts', '10.1', 'non-canonical-ipv4'],
      ['a single 32-bit number', '3232235777', 'non-canonical-ipv4'],
      ['zero padding', '01.02.03.04', 'non-canonical-ipv4'],
      ['one padded octet', '192.168.001.1', 'non-canonical-ipv4'],
      ['octal', '010.0.0.1', 'non-canonical-ipv4'],
      ['hex octets', '0xa.0.0.1', 'non-canonical-ipv4'],
      ['a hex number', '0xc0a80001', 'non-canonical-ipv4'],
      ['an IPv4 CIDR', '1.2.3.4/24', 'cidr'],
      ['an IPv6 CIDR', '2001:db8::/32', 'cidr'],
      ['a word', 'abc', 'malformed'],
      ['a host name', 'example.com', 'malformed'],
      ['a zone id', 'fe80::1%eth0', 'zone-id'],
      ['a numeric zone id', 'fe80::1%1', 'zone-id'],
      ['a trailing dot', '1.2.3.4.', 'malformed'],
      ['five parts', '1.2.3.4.5', 'malformed'],
      ['leading whitespace', ' 1.2.3.4', 'malformed'],
      ['a trailing newline', '1.2.3.4\n', 'malformed'],
      ['a port', '1.2.3.4:80', 'malformed'],
      ['a bracketed IPv6', '[::1]', 'malformed'],
      ['two "::"', '1::2::3', 'malformed'],
      ['nine IPv6 groups', '1:2:3:4:5:6:7:8:9', 'malformed'],
      ['a 5-digit IPv6 group', '2001:db8::12345', 'malformed'],
      ['a non-hex IPv6 group', '2001:db8::g', 'malformed'],
      ['a lone colon', ':', 'malformed'],
      ['a padded mapped IPv4 part', '::ffff:010.0.0.1', 'non-canonical-ipv4'],
      ['a hex mapped IPv4 part', '::ffff:0xa.0.0.1', 'non-canonical-ipv4'],
      ['a short mapped IPv4 part', '::ffff:1.2.3', 'malformed'],
      ['an IPv4-compatible address', '::1.2.3.4', 'ipv4-compatible'],
      ['an out-of-range mapped IPv4 part', '::ffff:256.1.1.1', 'malformed'],
    ])('%s (%j)', (_label, text, reason) => {
      expect(reasonOf(() => sut(text))).toBe(reason);
    });

    it('throws an InvalidIpAddressError with a human message', () => {
      expect(() => sut('abc')).toThrow(new InvalidIpAddressError('malformed', '"abc" is not an IPv4 or IPv6 address.'));
    });

    it('does not echo over-long input in the message', () => {
      const error = thrownBy(() => sut('x'.repeat(5000)));
      expect(error?.name).toBe('InvalidIpAddressError');
      expect(error?.message).toBe('An IP address is at most 64 characters long.');
    });
  });
});

describe('parseIpNetwork', () => {
  const sut = parseIpNetwork;

  it('reads a single address as a host network', () => {
    expect(sut('1.2.3.4')).toEqual({ version: 4, bytes: [1, 2, 3, 4], prefixLen: 32 });
    expect(sut('2001:db8::1').prefixLen).toBe(128);
  });

  it('clears host bits', () => {
    expect(sut('10.9.8.7/8')).toEqual({ version: 4, bytes: [10, 0, 0, 0], prefixLen: 8 });
    expect(sut('1.10.31.255/20')).toEqual({ version: 4, bytes: [1, 10, 16, 0], prefixLen: 20 });
    expect(sut('2001:db8:ffff::1/36').bytes.slice(0, 6)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0xf0, 0]);
  });

  it('accepts /0 and full-length prefixes', () => {
    expect(sut('8.8.8.8/0')).toEqual({ version: 4, bytes: [0, 0, 0, 0], prefixLen: 0 });
    expect(sut('::1/128').prefixLen).toBe(128);
  });

  it('folds IPv4-mapped networks of /96 and longer to IPv4', () => {
    expect(sut('::ffff:10.1.2.3/104')).toEqual({ version: 4, bytes: [10, 0, 0, 0], prefixLen: 8 });
    expect(sut('::ffff:0:0/80')).toEqual({ version: 6, bytes: new Array(16).fill(0), prefixLen: 80 });
  });

  it.each<[string, InvalidIpReason]>([
    ['1.2.3.4/33', 'bad-prefix-length'],
    ['::/129', 'bad-prefix-length'],
    ['1.2.3.4/', 'bad-prefix-length'],
    ['1.2.3.4/08', 'bad-prefix-length'],
    ['1.2.3.4/+8', 'bad-prefix-length'],
    ['1.2.3.4/1e1', 'bad-prefix-length'],
    ['1.2.3.4/8.0', 'bad-prefix-length'],
    ['1.2.3.4/8/8', 'bad-prefix-length'],
    ['01.2.3.4/8', 'non-canonical-ipv4'],
    ['fe80::%eth0/64', 'zone-id'],
    ['', 'empty'],
    ['/8', 'malformed'],
  ])('refuses %j (%s)', (text, reason) => {
    expect(reasonOf(() => sut(text))).toBe(reason);
  });
});

describe('clearHostBits', () => {
  it('keeps the first prefixLen bits', () => {
    expect(clearHostBits([255, 255, 255, 255], 0)).toEqual([0, 0, 0, 0]);
    expect(clearHostBits([255, 255, 255, 255], 13)).toEqual([255, 248, 0, 0]);
    expect(clearHostBits([255, 255, 255, 255], 32)).toEqual([255, 255, 255, 255]);
  });
});

describe('isPublicScope', () => {
  it.each<[IpScope, boolean]>([
    ['public', true],
    ['as112', true],
    ['amt', true],
    ['private', false],
    ['loopback', false],
    ['documentation', false],
    ['reserved', false],
    ['carrier-grade-nat', false],
    ['6to4', false],
    ['teredo', false],
    ['nat64', false],
  ])('%s → %s', (scope, expected) => {
    expect(isPublicScope(scope)).toBe(expected);
  });
});
