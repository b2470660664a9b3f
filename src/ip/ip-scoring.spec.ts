import {
  LOCAL_POINTS_PER_REPORTER,
  LocalReport,
  SourceAnswer,
  SourceKind,
  aggregate,
  scoreLocalReports,
  verdictFor,
} from './ip-scoring';

const thresholds = { maliciousAt: 75, suspiciousAt: 25 };

function answer(overrides: Partial<SourceAnswer> = {}): SourceAnswer {
  return {
    provider: 'abuseipdb',
    score: 0,
    totalReports: 0,
    lastReportedAt: null,
    categories: [],
    fetchedAt: '2024-06-01T00:00:00.000Z',
    hasData: true,
    // By default an AbuseIPDB-like answer: a broad-coverage source.
    kind: 'broad',
    ...overrides,
  };
}

const kindOf = (provider: string): SourceKind =>
  provider === 'abuseipdb' ? 'broad' : provider === 'local' ? 'reports' : 'list';
const noData = (provider: string): SourceAnswer =>
  answer({ provider, score: null, hasData: false, kind: kindOf(provider) });
const failed = (provider: string): SourceAnswer =>
  answer({ provider, score: null, hasData: false, error: 'upstream timeout', kind: kindOf(provider) });
const listHit = (provider: string): SourceAnswer =>
  answer({ provider, score: 100, totalReports: 1, hasData: true, decisive: true, kind: 'list' });
const reports = (score: number): SourceAnswer => answer({ provider: 'local', score, kind: 'reports' });

describe('aggregate', () => {
  const sut = aggregate;

  describe('verdict thresholds', () => {
    it.each([
      [0, 'clean'],
      [24, 'clean'],
      [25, 'suspicious'],
      [74, 'suspicious'],
      [75, 'malicious'],
      [100, 'malicious'],
    ] as const)('score %i → %s', (score, verdict) => {
      expect(sut([answer({ score })], thresholds)).toEqual({ score, verdict });
    });

    it('rounds before applying thresholds (74.5 → 75, malicious)', () => {
      expect(sut([answer({ score: 74 }), answer({ provider: 'other', score: 75 })], thresholds)).toEqual({
        score: 75,
        verdict: 'malicious',
      });
    });

    it('uses the configured thresholds', () => {
      expect(sut([answer({ score: 60 })], { maliciousAt: 60, suspiciousAt: 10 }).verdict).toBe('malicious');
      expect(sut([answer({ score: 9 })], { maliciousAt: 60, suspiciousAt: 10 }).verdict).toBe('clean');
    });
  });

  describe('which sources count', () => {
    it('averages the sources with data', () => {
      expect(sut([answer({ score: 80 }), answer({ provider: 'local', score: 40 })], thresholds)).toEqual({
        score: 60,
        verdict: 'suspicious',
      });
    });

    it('does not let sources without data dilute the score', () => {
      const sources = [answer({ score: 80 }), noData('local'), noData('spamhaus-drop'), noData('tor-exits')];
      expect(sut(sources, thresholds)).toEqual({ score: 80, verdict: 'malicious' });
    });

    it('does not let failed sources dilute the score', () => {
      expect(sut([answer({ score: 80 }), failed('other')], thresholds)).toEqual({ score: 80, verdict: 'malicious' });
    });

    it('uses a stale answer in place of a failing provider', () => {
      const stale = answer({ score: 90, error: 'upstream timeout', stale: true });
      expect(sut([stale], thresholds)).toEqual({ score: 90, verdict: 'malicious' });
    });

    it('treats a real zero answer as clean evidence', () => {
      expect(sut([answer({ score: 0, hasData: true })], thresholds)).toEqual({ score: 0, verdict: 'clean' });
    });

    it('a zero answer does dilute other evidence: both sources know the address', () => {
      expect(sut([answer({ score: 0 }), answer({ provider: 'local', score: 60 })], thresholds).score).toBe(30);
    });

    it('is clean with score 0 when a broad source answered with nothing against the address', () => {
      expect(sut([noData('abuseipdb'), noData('local'), noData('spamhaus-drop')], thresholds)).toEqual({
        score: 0,
        verdict: 'clean',
      });
    });

    it('is unknown when none has data and a source failed: its silence is not evidence', () => {
      expect(sut([failed('abuseipdb'), noData('local')], thresholds)).toEqual({ score: null, verdict: 'unknown' });
    });

    it('still scores the evidence there is when a source failed', () => {
      expect(sut([failed('abuseipdb'), reports(30)], thresholds)).toEqual({
        score: 30,
        verdict: 'suspicious',
      });
    });

    it('is unknown when no source answered', () => {
      expect(sut([failed('abuseipdb'), failed('local')], thresholds)).toEqual({ score: null, verdict: 'unknown' });
    });

    it('is unknown with no sources at all', () => {
      expect(sut([], thresholds)).toEqual({ score: null, verdict: 'unknown' });
    });

    it('ignores a score a source reports without data', () => {
      expect(sut([answer({ score: 90, hasData: false }), answer({ provider: 'x', score: 10 })], thresholds).score).toBe(
        10,
      );
    });
  });

  describe('weights and decisive sources', () => {
    it('weights the mean', () => {
      const sources = [answer({ score: 100, weight: 3 }), answer({ provider: 'local', score: 0, weight: 1 })];
      expect(sut(sources, thresholds).score).toBe(75);
    });

    it('leaves a weight-0 source out of the mean', () => {
      const sources = [answer({ score: 100, weight: 0 }), answer({ provider: 'local', score: 20 })];
      expect(sut(sources, thresholds).score).toBe(20);
    });

    it('lets a decisive list hit set the score on its own', () => {
      const sources = [answer({ score: 0 }), listHit('spamhaus-drop')];
      expect(sut(sources, thresholds)).toEqual({ score: 100, verdict: 'malicious' });
    });

    it('uses the decisive score as a floor, not a cap', () => {
      const sources = [answer({ score: 90 }), answer({ provider: 'tor-exits', score: 50, decisive: true })];
      expect(sut(sources, thresholds).score).toBe(70);
      expect(sut([answer({ score: 0 }), sources[1]], thresholds)).toEqual({ score: 50, verdict: 'suspicious' });
    });

    it('ignores a decisive source that failed without a stale answer', () => {
      const failedList = { ...listHit('spamhaus-drop'), error: 'file unreadable' };
      expect(sut([answer({ score: 10 }), failedList], thresholds).score).toBe(10);
    });

    it('clamps out-of-range scores', () => {
      expect(sut([answer({ score: 250 })], thresholds).score).toBe(100);
      expect(sut([answer({ score: -5 })], thresholds).score).toBe(0);
    });
  });
});

describe('aggregate: absence of evidence is not clean', () => {
  const sut = aggregate;

  it('is unknown, score null, when only reports and lists answered and none has anything', () => {
    expect(sut([noData('local'), noData('feed:firehol')], thresholds)).toEqual({ score: null, verdict: 'unknown' });
  });

  it('is unknown when the reports are too faint to be suspicious and no broad source answered', () => {
    expect(sut([reports(10)], thresholds)).toEqual({ score: null, verdict: 'unknown' });
  });

  it('is unknown when the broad source failed with no earlier answer', () => {
    expect(sut([failed('abuseipdb'), noData('local')], thresholds)).toEqual({ score: null, verdict: 'unknown' });
  });

  it('is clean when the broad source answers from a stale snapshot', () => {
    const stale = answer({ score: 5, error: 'timeout', stale: true });
    expect(sut([stale, noData('local')], thresholds)).toEqual({ score: 5, verdict: 'clean' });
  });

  it('still says suspicious or malicious without a broad source when there is evidence', () => {
    expect(sut([reports(30)], thresholds)).toEqual({ score: 30, verdict: 'suspicious' });
    expect(sut([listHit('feed:spamhaus-drop'), noData('local')], thresholds)).toEqual({
      score: 100,
      verdict: 'malicious',
    });
  });

  it('treats a source of no declared kind as not broad', () => {
    expect(sut([answer({ provider: 'other', score: 0, kind: undefined })], thresholds).verdict).toBe('unknown');
  });
});

describe('aggregate: reports alone cannot condemn', () => {
  const sut = aggregate;

  it('caps reports alone just below the malicious threshold', () => {
    expect(sut([reports(90)], thresholds)).toEqual({ score: 74, verdict: 'suspicious' });
    expect(sut([reports(100)], { maliciousAt: 60, suspiciousAt: 10 })).toEqual({ score: 59, verdict: 'suspicious' });
  });

  it('does not cap when another source has evidence too', () => {
    expect(sut([reports(90), answer({ score: 80 })], thresholds)).toEqual({ score: 85, verdict: 'malicious' });
    expect(sut([reports(90), listHit('feed:firehol')], thresholds)).toEqual({ score: 100, verdict: 'malicious' });
  });

  it('caps when the other sources have nothing on the address', () => {
    expect(sut([reports(90), noData('feed:firehol')], thresholds)).toEqual({ score: 74, verdict: 'suspicious' });
  });
});

describe('verdictFor', () => {
  it('is unknown for a null score', () => {
    expect(verdictFor(null, thresholds)).toBe('unknown');
  });
});

describe('scoreLocalReports', () => {
  const sut = scoreLocalReports;
  const now = new Date('2024-06-30T12:00:00.000Z');
  const daysAgo = (days: number): Date => new Date(now.getTime() - days * 24 * 60 * 60 * 1000);
  const report = (userId: string, ageDays: number, categories: number[] = [18]): LocalReport => ({
    userId,
    categories,
    createdAt: daysAgo(ageDays),
  });

  it('scores no reports as 0 with nothing reported', () => {
    expect(sut([], now)).toEqual({
      score: 0,
      totalReports: 0,
      distinctReporters: 0,
      lastReportedAt: null,
      categories: [],
    });
  });

  it('gives one fresh reporter the per-reporter points (suspicious)', () => {
    const result = sut([report('alice', 0)], now);
    expect(result.score).toBe(LOCAL_POINTS_PER_REPORTER);
    expect(verdictFor(result.score, thresholds)).toBe('suspicious');
  });

  it('counts a user who reports 50 times once: never malicious alone', () => {
    const reports = Array.from({ length: 50 }, (_, index) => report('alice', index * 0.1));
    const result = sut(reports, now);
    expect(result).toMatchObject({ score: 30, totalReports: 50, distinctReporters: 1 });
    expect(verdictFor(result.score, thresholds)).not.toBe('malicious');
  });

  it('reaches malicious with three distinct recent reporters', () => {
    const result = sut([report('alice', 1), report('bob', 2), report('carol', 3)], now);
    expect(result.distinctReporters).toBe(3);
    expect(result.score).toBeGreaterThanOrEqual(75);
    expect(verdictFor(result.score, thresholds)).toBe('malicious');
  });

  it('caps the score at 100', () => {
    const reports = ['a', 'b', 'c', 'd', 'e', 'f'].map((userId) => report(userId, 0));
    expect(sut(reports, now).score).toBe(100);
  });

  it('halves a report’s weight every 30 days', () => {
    expect(sut([report('alice', 30)], now).score).toBe(15);
    expect(sut([report('alice', 60)], now).score).toBe(8); // 7.5 rounds up
    expect(sut([report('alice', 365)], now).score).toBe(0);
  });

  it('lets three stale reporters fall from malicious back to suspicious', () => {
    const reporters = ['alice', 'bob', 'carol'];
    expect(
      sut(
        reporters.map((user) => report(user, 0)),
        now,
      ).score,
    ).toBe(90);
    expect(
      sut(
        reporters.map((user) => report(user, 10)),
        now,
      ).score,
    ).toBe(71);
  });

  it("uses each reporter's most recent report for recency", () => {
    const result = sut([report('alice', 90), report('alice', 0), report('alice', 45)], now);
    expect(result.score).toBe(30);
  });

  it('treats future-dated reports as made now', () => {
    expect(sut([report('alice', -2)], now).score).toBe(30);
  });

  it('reports the totals, latest time and merged categories', () => {
    const result = sut([report('alice', 5, [18, 22]), report('bob', 1, [14]), report('alice', 3, [22, 4])], now);
    expect(result).toEqual({
      score: expect.any(Number),
      totalReports: 3,
      distinctReporters: 2,
      lastReportedAt: daysAgo(1).toISOString(),
      categories: [4, 14, 18, 22],
    });
  });
});
