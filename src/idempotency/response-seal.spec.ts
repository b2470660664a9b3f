import { ResponseSeal } from './response-seal';

const SECRET = 'a-jwt-secret-that-is-long-enough-0123456789';
const PREVIOUS = 'the-previous-jwt-secret-also-long-enough-987';
const BODY = '{"id":"e1","secret":"whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="}';

describe('ResponseSeal', () => {
  it('opens what it sealed, and the sealed text does not contain the body', () => {
    const sut = new ResponseSeal([SECRET]);

    const sealed = sut.seal(BODY, 'user-1\nkey-1');

    expect(sealed).not.toContain('whsec_');
    expect(sealed).not.toContain('secret');
    expect(sut.tryOpen(sealed, 'user-1\nkey-1')).toBe(BODY);
  });

  it('seals the same body differently each time', () => {
    const sut = new ResponseSeal([SECRET]);

    expect(sut.seal(BODY, 'b')).not.toBe(sut.seal(BODY, 'b'));
  });

  it('does not open a body bound to another user or key, altered, or malformed', () => {
    const sut = new ResponseSeal([SECRET]);
    const sealed = sut.seal(BODY, 'user-1\nkey-1');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[4], 'base64url');
    flipped[0] ^= 1;

    expect(sut.tryOpen(sealed, 'user-2\nkey-1')).toBeUndefined();
    expect(sut.tryOpen([...parts.slice(0, 4), flipped.toString('base64url')].join('.'), 'user-1\nkey-1')).toBeUndefined();
    expect(sut.tryOpen(BODY, 'user-1\nkey-1')).toBeUndefined();
    expect(sut.tryOpen(`${sealed}.extra`, 'user-1\nkey-1')).toBeUndefined();
  });

  it('opens a body sealed before a rotation with the previous secret, and nothing without it', () => {
    const before = new ResponseSeal([PREVIOUS]).seal(BODY, 'b');

    expect(new ResponseSeal([SECRET, PREVIOUS]).tryOpen(before, 'b')).toBe(BODY);
    expect(new ResponseSeal([SECRET]).tryOpen(before, 'b')).toBeUndefined();
  });
});
