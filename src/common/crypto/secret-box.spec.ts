import { SecretBox, SecretBoxError } from './secret-box';
const PURPOSE = { info: 'argus webhook endpoint secrets v1', format: 'v1' };

const KEY = 'a-secret-that-lives-outside-the-database-0123456789';
const OTHER_KEY = 'another-secret-that-lives-outside-the-database-987';

describe('SecretBox (values at rest)', () => {
  it('keys each purpose apart: what one seals, another with the same secret does not open', () => {
    const sealed = new SecretBox([KEY], PURPOSE).seal('whsec_x', 'row-1');
    expect(new SecretBox([KEY], { info: 'another purpose', format: 'v1' }).tryOpen(sealed, 'row-1')).toBeUndefined();
  });

  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3lNKgKz8iyA=';

  it('opens what it sealed, and the sealed text shows nothing of the secret', () => {
    const sut = new SecretBox([KEY], PURPOSE);
    const sealed = sut.seal(secret, 'endpoint-1');

    expect(sut.open(sealed, 'endpoint-1')).toBe(secret);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret.slice(6, 20));
    expect(sealed.length).toBeLessThanOrEqual(256);
  });

  it('seals the same secret differently each time (random IV)', () => {
    const sut = new SecretBox([KEY], PURPOSE);
    expect(sut.seal(secret, 'endpoint-1')).not.toBe(sut.seal(secret, 'endpoint-1'));
  });

  it('cannot be opened without the key: a database dump alone forges nothing', () => {
    const sealed = new SecretBox([KEY], PURPOSE).seal(secret, 'endpoint-1');
    expect(() => new SecretBox([OTHER_KEY], PURPOSE).open(sealed, 'endpoint-1')).toThrow(SecretBoxError);
  });

  it('does not open for another row (the endpoint id is bound in)', () => {
    const sut = new SecretBox([KEY], PURPOSE);
    expect(() => sut.open(sut.seal(secret, 'endpoint-1'), 'endpoint-2')).toThrow(SecretBoxError);
  });

  it('refuses altered or malformed values', () => {
    const sut = new SecretBox([KEY], PURPOSE);
    const parts = sut.seal(secret, 'endpoint-1').split('.');
    const flipped = Buffer.from(parts[4], 'base64url');
    flipped[0] ^= 1;
    expect(() => sut.open([...parts.slice(0, 4), flipped.toString('base64url')].join('.'), 'endpoint-1')).toThrow(
      SecretBoxError,
    );
    expect(() => sut.open('whsec_plain', 'endpoint-1')).toThrow(SecretBoxError);
    expect(() => sut.open(`${parts.join('.')}.extra`, 'endpoint-1')).toThrow(SecretBoxError);
  });

  it('seals with the first key and still opens what older keys sealed', () => {
    const before = new SecretBox([KEY], PURPOSE).seal(secret, 'endpoint-1');
    const sut = new SecretBox([OTHER_KEY, KEY], PURPOSE);

    expect(sut.open(before, 'endpoint-1')).toBe(secret);
    expect(new SecretBox([OTHER_KEY], PURPOSE).open(sut.seal(secret, 'endpoint-1'), 'endpoint-1')).toBe(secret);
  });

  it('tells values sealed with the current key from those sealed with an older one', () => {
    const before = new SecretBox([KEY], PURPOSE).seal(secret, 'endpoint-1');
    const sut = new SecretBox([OTHER_KEY, KEY, KEY], PURPOSE);

    expect(sut.isCurrent(before)).toBe(false);
    expect(sut.isCurrent(sut.seal(secret, 'endpoint-1'))).toBe(true);
  });
});
