import { blocklistNameFromFile, parseBlocklist } from './blocklist-parser';

describe('parseBlocklist', () => {
  const sut = parseBlocklist;

  it('reads one IP or CIDR per line, IPv4 and IPv6', () => {
    const result = sut('1.2.3.4\n10.0.0.0/8\n2001:db8::/32\n2001:db8::1\n');
    expect(result).toEqual({
      entries: [
        { bytes: [1, 2, 3, 4], prefixLen: 32 },
        { bytes: [10, 0, 0, 0], prefixLen: 8 },
        { bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], prefixLen: 32 },
        { bytes: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], prefixLen: 128 },
      ],
      invalidLines: 0,
    });
  });

  it('clears host bits in CIDRs', () => {
    expect(sut('10.0.0.1/8').entries).toEqual([{ bytes: [10, 0, 0, 0], prefixLen: 8 }]);
  });

  it('folds IPv4-mapped entries to IPv4', () => {
    expect(sut('::ffff:10.1.2.3\n::ffff:10.1.2.0/120').entries).toEqual([
      { bytes: [10, 1, 2, 3], prefixLen: 32 },
      { bytes: [10, 1, 2, 0], prefixLen: 24 },
    ]);
  });

  it('reads the Spamhaus DROP format (";" comments, trailing SBL ids)', () => {
    const drop = [
      '; Spamhaus DROP List 2024/01/01 - (c) 2024 The Spamhaus Project',
      '; Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT',
      '1.10.16.0/20 ; SBL256894',
      '1.19.0.0/16 ; SBL434604',
    ].join('\n');
    expect(sut(drop)).toEqual({
      entries: [
        { bytes: [1, 10, 16, 0], prefixLen: 20 },
        { bytes: [1, 19, 0, 0], prefixLen: 16 },
      ],
      invalidLines: 0,
    });
  });

  it('reads FireHOL .netset/.ipset files ("#" headers, blank lines)', () => {
    const netset = [
      '#',
      '# firehol_level1',
      '#',
      '# ipv4 hash:net ipset',
      '',
      '0.0.0.0/8',
      '1.10.16.0/20',
      '   ',
      '5.188.10.179 # trailing note',
    ].join('\n');
    expect(sut(netset)).toEqual({
      entries: [
        { bytes: [0, 0, 0, 0], prefixLen: 8 },
        { bytes: [1, 10, 16, 0], prefixLen: 20 },
        { bytes: [5, 188, 10, 179], prefixLen: 32 },
      ],
      invalidLines: 0,
    });
  });

  it('reads a plain Tor exit address list', () => {
    expect(sut('185.220.101.1\n185.220.101.2\n2a0b:f4c2::1\n').entries).toHaveLength(3);
  });

  it('reads the Tor bulk exit list, skipping relay metadata lines', () => {
    const bulk = [
      'ExitNode 0011BD2485AD45D984EC4159C88FC066E5E3300E',
      'Published 2024-01-01 10:00:00',
      'LastStatus 2024-01-01 11:00:00',
      'ExitAddress 162.247.74.201 2024-01-01 11:02:07',
      'ExitNode 0111BA9B604669E636FFD5B503F382A4B7AD6E80',
      'Published 2024-01-01 09:00:00',
      'LastStatus 2024-01-01 10:00:00',
      'ExitAddress 176.10.99.200 2024-01-01 10:10:10',
    ].join('\n');
    expect(sut(bulk)).toEqual({
      entries: [
        { bytes: [162, 247, 74, 201], prefixLen: 32 },
        { bytes: [176, 10, 99, 200], prefixLen: 32 },
      ],
      invalidLines: 0,
    });
  });

  it('ignores extra fields after the address, tabs and CRLF line ends', () => {
    expect(sut('1.2.3.4\t7\r\n5.6.7.8   3\r\n').entries).toEqual([
      { bytes: [1, 2, 3, 4], prefixLen: 32 },
      { bytes: [5, 6, 7, 8], prefixLen: 32 },
    ]);
  });

  it('tolerates a byte-order mark', () => {
    expect(sut('\uFEFF1.2.3.4\n').entries).toEqual([{ bytes: [1, 2, 3, 4], prefixLen: 32 }]);
  });

  it('counts and skips unreadable lines instead of throwing', () => {
    const text = [
      '1.2.3.4',
      'not-an-ip',
      '999.1.1.1',
      '01.02.03.04',
      '1.2.3.4/33',
      '1.2.3.4-1.2.3.9',
      'fe80::1%eth0',
      'ExitAddress',
      `${'9'.repeat(5000)}`,
      '5.6.7.8',
    ].join('\n');
    expect(sut(text)).toEqual({
      entries: [
        { bytes: [1, 2, 3, 4], prefixLen: 32 },
        { bytes: [5, 6, 7, 8], prefixLen: 32 },
      ],
      invalidLines: 8,
    });
  });

  it('returns nothing for an empty or comment-only file', () => {
    expect(sut('')).toEqual({ entries: [], invalidLines: 0 });
    expect(sut('# nothing\n; here\n\n')).toEqual({ entries: [], invalidLines: 0 });
  });
});

describe('blocklistNameFromFile', () => {
  it.each([
    ['/data/blocklists/firehol_level1.netset', 'firehol_level1'],
    ['spamhaus-drop.txt', 'spamhaus-drop'],
    ['tor-exits', 'tor-exits'],
    ['lists/my.list.ipset', 'my.list'],
  ])('%s → %s', (path, name) => {
    expect(blocklistNameFromFile(path)).toBe(name);
  });
});
