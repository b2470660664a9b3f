import { keyExpiryStatus } from './api-key-expiry';

const NOW = new Date('2030-06-01T12:00:00.000Z');
const inDays = (days: number): Date => new Date(NOW.getTime() + days * 86_400_000);

describe('keyExpiryStatus', () => {
  const sut = keyExpiryStatus;

  it('is ok further out than the warning window', () => {
    expect(sut('abuseipdb', inDays(30), 14, NOW)).toEqual({
      provider: 'abuseipdb',
      expiresAt: inDays(30),
      daysLeft: 30,
      state: 'ok',
    });
  });

  it('is expiring with at most API_KEY_EXPIRY_WARN_DAYS whole days left', () => {
    expect(sut('abuseipdb', inDays(14.99), 14, NOW)).toMatchObject({ state: 'expiring', daysLeft: 14 });
    expect(sut('abuseipdb', inDays(15), 14, NOW)).toMatchObject({ state: 'ok', daysLeft: 15 });
    expect(sut('abuseipdb', inDays(0.5), 14, NOW)).toMatchObject({ state: 'expiring', daysLeft: 0 });
    expect(sut('abuseipdb', NOW, 14, NOW)).toMatchObject({ state: 'expiring', daysLeft: 0 });
  });

  it('is expired once the expiry has passed', () => {
    expect(sut('openai', new Date(NOW.getTime() - 1), 14, NOW)).toMatchObject({ state: 'expired', daysLeft: -1 });
    expect(sut('openai', inDays(-2), 14, NOW)).toMatchObject({ state: 'expired', daysLeft: -2 });
  });

  it('warns only on the last day when the window is zero days', () => {
    expect(sut('openai', inDays(1), 0, NOW).state).toBe('ok');
    expect(sut('openai', inDays(0.9), 0, NOW).state).toBe('expiring');
  });
});
