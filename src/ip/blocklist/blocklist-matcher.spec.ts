import { parseIpAddress } from '../ip-address';
import { BlocklistMatcher } from './blocklist-matcher';
import { parseBlocklist } from './blocklist-parser';

describe('BlocklistMatcher', () => {
  let sut: BlocklistMatcher;

  beforeEach(() => {
    sut = new BlocklistMatcher([
      { name: 'spamhaus-drop', entries: parseBlocklist('1.10.16.0/20 ; SBL256894\n2001:db8:bad::/48').entries },
      { name: 'firehol_level1', entries: parseBlocklist('1.10.0.0/16\n10.0.0.0/8\n').entries },
      { name: 'tor-exits', entries: parseBlocklist('1.10.16.5\n2001:db8:bad::5\n').entries },
    ]);
  });

  const matchText = (text: string): string[] => sut.match(parseIpAddress(text));

  it('names every list containing the address, in load order', () => {
    expect(matchText('1.10.16.5')).toEqual(['spamhaus-drop', 'firehol_level1', 'tor-exits']);
    expect(matchText('1.10.17.1')).toEqual(['spamhaus-drop', 'firehol_level1']);
    expect(matchText('1.10.200.1')).toEqual(['firehol_level1']);
  });

  it('returns an empty array for an unlisted address', () => {
    expect(matchText('8.8.8.8')).toEqual([]);
    expect(matchText('2001:db8::1')).toEqual([]);
  });

  it('matches IPv6 against IPv6 lists only', () => {
    expect(matchText('2001:db8:bad::5')).toEqual(['spamhaus-drop', 'tor-exits']);
    expect(matchText('2001:db8:bad:ffff::1')).toEqual(['spamhaus-drop']);
    // ::a01:1005 shares its low 32 bits with 10.1.16.5 but is another family.
    expect(matchText('::a01:1005')).toEqual([]);
  });

  it('matches IPv4-mapped input as the IPv4 address', () => {
    expect(matchText('::ffff:10.20.30.40')).toEqual(['firehol_level1']);
  });

  it('reports a list once even if several of its networks cover the address', () => {
    const nested = new BlocklistMatcher([
      { name: 'nested', entries: parseBlocklist('10.0.0.0/8\n10.1.0.0/16\n10.1.2.3').entries },
    ]);
    expect(nested.match(parseIpAddress('10.1.2.3'))).toEqual(['nested']);
  });

  it('merges lists given under the same name', () => {
    const merged = new BlocklistMatcher([
      { name: 'a', entries: parseBlocklist('1.1.1.1').entries },
      { name: 'a', entries: parseBlocklist('2.2.2.2').entries },
    ]);
    expect(merged.listNames).toEqual(['a']);
    expect(merged.match(parseIpAddress('2.2.2.2'))).toEqual(['a']);
  });

  it('counts distinct networks per family', () => {
    expect(sut.stats).toMatchObject({ ipv4Networks: 4, ipv6Networks: 2 });
    expect(sut.listNames).toEqual(['spamhaus-drop', 'firehol_level1', 'tor-exits']);
  });

  it('matches nothing when built from no lists', () => {
    expect(new BlocklistMatcher([]).match(parseIpAddress('1.2.3.4'))).toEqual([]);
  });

  it('refuses an entry that is neither IPv4 nor IPv6', () => {
    expect(() => new BlocklistMatcher([{ name: 'bad', entries: [{ bytes: [1, 2], prefixLen: 8 }] }])).toThrow(
      RangeError,
    );
  });
});
