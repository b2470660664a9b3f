import { parseAbuseIpDbCheck } from './abuseipdb-response';
import { IpSourceError } from './ip-intel-provider';

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

const FETCHED_AT = new Date('2030-01-01T00:00:00.000Z');

/** Shaped like a real `GET /api/v2/check?verbose` answer. */
function checkBody(overrides: Record<string, unknown> = {}): unknown {
  return {
    data: {
      ipAddress: '118.25.6.39',
      isPublic: true,
      ipVersion: 4,
      isWhitelisted: false,
      abuseConfidenceScore: 87,
      countryCode: 'CN',
      countryName: 'China',
      usageType: 'Data Center/Web Hosting/Transit',
      isp: 'Tencent Cloud Computing (Beijing) Co. Ltd',
      domain: 'tencent.com',
      hostnames: [],
      isTor: false,
      totalReports: 1,
      numDistinctUsers: 1,
      lastReportedAt: '2018-12-20T20:55:14+00:00',
      reports: [
        { reportedAt: '2018-12-20T20:55:14+00:00', comment: 'ssh', categories: [18, 22], reporterId: 1 },
        { reportedAt: '2018-12-19T20:55:14+00:00', comment: 'web', categories: [21, 18], reporterId: 2 },
      ],
      ...overrides,
    },
  };
}

describe('parseAbuseIpDbCheck', () => {
  const sut = parseAbuseIpDbCheck;

  it('maps the verbose check answer', () => {
    expect(sut(checkBody(), FETCHED_AT)).toEqual({
      provider: 'abuseipdb',
      score: 87,
      hasData: true,
      totalReports: 1,
      distinctReporters: 1,
      lastReportedAt: '2018-12-20T20:55:14.000Z',
      categories: [18, 21, 22],
      fetchedAt: '2030-01-01T00:00:00.000Z',
      details: {
        country: 'CN',
        isp: 'Tencent Cloud Computing (Beijing) Co. Ltd',
        usageType: 'Data Center/Web Hosting/Transit',
        domain: 'tencent.com',
        isTor: false,
      },
    });
  });

  it('counts a clean answer as data, with no reports', () => {
    const answer = sut(
      checkBody({ abuseConfidenceScore: 0, totalReports: 0, numDistinctUsers: 0, lastReportedAt: null, reports: [] }),
      FETCHED_AT,
    );
    expect(answer).toMatchObject({ score: 0, hasData: true, totalReports: 0, lastReportedAt: null, categories: [] });
  });

  it('tolerates missing optional fields', () => {
    const answer = sut({ data: { abuseConfidenceScore: 12 } }, FETCHED_AT);
    expect(answer).toMatchObject({
      score: 12,
      totalReports: 0,
      distinctReporters: 0,
      categories: [],
      details: { country: null, isp: null, usageType: null, domain: null, isTor: null },
    });
  });

  it('clamps the score and ignores malformed categories', () => {
    const answer = sut(
      checkBody({ abuseConfidenceScore: 140, reports: [{ categories: [3, 'x', -1, 2.5, 3] }, 'junk'] }),
      FETCHED_AT,
    );
    expect(answer.score).toBe(100);
    expect(answer.categories).toEqual([3]);
  });

  it.each([
    ['no body', undefined],
    ['text', 'Service Unavailable'],
    ['an error body', { errors: [{ detail: 'x', status: 422 }] }],
    ['a non-numeric score', { data: { abuseConfidenceScore: '87' } }],
  ])('refuses %s as a bad response', (_name, body) => {
    const thrown = thrownBy(() => sut(body, FETCHED_AT));
    expect(thrown).toBeInstanceOf(IpSourceError);
    expect(thrown).toMatchObject({ code: 'bad-response' });
  });

  describe('caps what the provider says before it is returned, cached or stored', () => {
    const MB = 1024 * 1024;
    const detailsOf = (overrides: Record<string, unknown>) => {
      const details = sut(checkBody(overrides), FETCHED_AT).details;
      if (!details) throw new Error('the answer has no details');
      return details;
    };

    it('drops a domain longer than a DNS name can be', () => {
      const details = detailsOf({ domain: `${'a'.repeat(2 * MB)}.com` });
      expect(details.domain).toBeNull();
    });

    it('keeps a domain of exactly 253 characters', () => {
      const domain = `${'a.'.repeat(125)}com`;
      expect(domain).toHaveLength(253);
      expect(detailsOf({ domain }).domain).toBe(domain);
    });

    it('cuts the ISP and usage type to 253 and 100 characters', () => {
      const details = detailsOf({ isp: 'I'.repeat(2 * MB), usageType: 'U'.repeat(10_000) });
      expect(details.isp).toBe('I'.repeat(253));
      expect(details.usageType).toBe('U'.repeat(100));
    });

    it('never cuts a character in half', () => {
      const isp = `${'x'.repeat(252)}😀tail`;
      expect(detailsOf({ isp }).isp).toBe('x'.repeat(252));
    });

    it('accepts only a two-letter country code', () => {
      expect(detailsOf({ countryCode: 'C'.repeat(MB) }).country).toBeNull();
      expect(detailsOf({ countryCode: 'cn' }).country).toBe('CN');
    });

    it('removes control characters and lone surrogates (PostgreSQL refuses NUL in JSON)', () => {
      const details = detailsOf({ isp: 'Evil\u0000 ISP\u0085\n', domain: 'ex\ud800ample.com' });
      expect(details.isp).toBe('Evil ISP');
      expect(details.domain).toBe('ex\ufffdample.com');
    });

    it('ignores an absurd lastReportedAt and bounds the reports it reads', () => {
      const reports = Array.from({ length: 100_000 }, () => ({ categories: [18] }));
      reports.push({ categories: [22] });
      const answer = sut(checkBody({ lastReportedAt: `2018-12-20${' '.repeat(MB)}`, reports }), FETCHED_AT);
      expect(answer.lastReportedAt).toBeNull();
      expect(answer.categories).toEqual([18]);
    });
  });
});
