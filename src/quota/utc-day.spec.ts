import { secondsUntilNextUtcDay, utcDay } from './utc-day';

describe('utcDay', () => {
  it('keeps the last millisecond of a UTC day on that day', () => {
    expect(utcDay(new Date('2026-03-10T23:59:59.999Z'))).toBe('2026-03-10');
  });

  it('moves to the next day exactly at UTC midnight', () => {
    expect(utcDay(new Date('2026-03-11T00:00:00.000Z'))).toBe('2026-03-11');
  });

  it('uses the UTC day, not the day of the offset the time was written in', () => {
    expect(utcDay(new Date('2026-03-11T01:30:00+02:00'))).toBe('2026-03-10');
    expect(utcDay(new Date('2026-03-10T22:30:00-03:00'))).toBe('2026-03-11');
  });

  it('handles month, year and leap-day boundaries', () => {
    expect(utcDay(new Date('2028-02-29T12:00:00Z'))).toBe('2028-02-29');
    expect(utcDay(new Date('2026-12-31T23:59:59.999Z'))).toBe('2026-12-31');
    expect(utcDay(new Date('2027-01-01T00:00:00Z'))).toBe('2027-01-01');
  });
});

describe('secondsUntilNextUtcDay', () => {
  it('counts whole seconds to the next UTC midnight', () => {
    expect(secondsUntilNextUtcDay(new Date('2026-03-10T23:00:00Z'))).toBe(3600);
    expect(secondsUntilNextUtcDay(new Date('2026-03-10T00:00:00Z'))).toBe(86_400);
  });

  it('rounds up and never answers 0', () => {
    expect(secondsUntilNextUtcDay(new Date('2026-03-10T23:59:59.001Z'))).toBe(1);
    expect(secondsUntilNextUtcDay(new Date('2026-03-10T23:59:59.999Z'))).toBe(1);
  });
});
