import { parseFeed, refusalReason } from './feed-parser';
import { maskUrl } from './ip-feeds.service';

describe('parseFeed', () => {
  const sut = parseFeed;

  it('reads Spamhaus DROP JSON lines, skipping the metadata line', () => {
    const parsed = sut(
      [
        '{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}',
        '{"cidr":"2a0e:fd80::/29","sblid":"SBL424242","rir":"ripencc"}',
        '{"type":"metadata","timestamp":1906700000,"size":2,"records":2}',
        '',
      ].join('\n'),
    );
    expect(parsed.format).toBe('spamhaus-json');
    expect(parsed.entries.map((entry) => entry.prefixLen)).toEqual([20, 29]);
    expect(parsed.invalidLines).toBe(0);
  });

  it('counts JSON lines without a usable cidr as invalid', () => {
    const parsed = sut('{"cidr":"1.10.16.0/20"}\n{"cidr":"010.1.1.0/24"}\nnot json\n{"sblid":"x"}\n');
    expect(parsed).toMatchObject({ format: 'spamhaus-json', invalidLines: 3 });
    expect(parsed.entries).toHaveLength(1);
  });

  it('reads FireHOL netsets, plain lists and the Tor bulk exit list', () => {
    expect(sut('# firehol\n45.12.0.0/16\n203.0.114.17\n').entries).toHaveLength(2);
    expect(sut('ExitNode ABC\nExitAddress 104.244.72.115 2030-06-01 11:03:05\n').entries).toHaveLength(1);
    expect(sut('; Spamhaus DROP\n1.10.16.0/20 ; SBL256894\n').format).toBe('plain');
  });
});

describe('refusalReason', () => {
  it('refuses an empty feed and one that is mostly garbage (an HTML error page)', () => {
    expect(refusalReason(parseFeed(''))).toBe('no valid entry');
    expect(refusalReason(parseFeed('<html>\n<body>\n1.2.3.4\n</body>\n</html>\n'))).toBe(
      'more invalid lines than entries',
    );
    expect(refusalReason(parseFeed('1.2.3.4\n5.6.7.8\nbad\n'))).toBeUndefined();
  });
});

describe('maskUrl', () => {
  it('masks credentials and query values, keeps the rest readable', () => {
    expect(maskUrl('https://user:s3cret@feeds.example/list.txt?key=abc&format=plain')).toBe(
      'https://***@feeds.example/list.txt?key=***&format=***',
    );
    expect(maskUrl('https://iplists.firehol.org/files/firehol_level1.netset')).toBe(
      'https://iplists.firehol.org/files/firehol_level1.netset',
    );
    expect(maskUrl('file:///etc/argus/local.txt')).toBe('file:///etc/argus/local.txt');
  });
});
