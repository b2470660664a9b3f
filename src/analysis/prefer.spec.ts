import { appliedPreferences, parsePrefer } from './prefer';

describe('parsePrefer (RFC 7240)', () => {
  it('reads respond-async and wait, in one header or several, any case and spacing', () => {
    expect(parsePrefer('respond-async')).toEqual({ respondAsync: true });
    expect(parsePrefer('wait=10')).toEqual({ respondAsync: false, waitS: 10 });
    expect(parsePrefer(' Respond-Async ,  WAIT=5 ')).toEqual({ respondAsync: true, waitS: 5 });
    expect(parsePrefer(['handling=lenient', 'wait=3'])).toEqual({ respondAsync: false, waitS: 3 });
    expect(parsePrefer('wait="7"')).toEqual({ respondAsync: false, waitS: 7 });
    expect(parsePrefer('wait=0')).toEqual({ respondAsync: false, waitS: 0 });
  });

  it('caps wait at 60 seconds', () => {
    expect(parsePrefer('wait=61').waitS).toBe(60);
    expect(parsePrefer('wait=9999999999').waitS).toBe(60);
  });

  it.each([
    ['a negative wait', 'wait=-1'],
    ['a fractional wait', 'wait=1.5'],
    ['a wait with letters', 'wait=10s'],
    ['an empty wait', 'wait='],
    ['a wait without a value', 'wait'],
    ['an absurdly long number', `wait=${'9'.repeat(40)}`],
    ['a bad token', 'wa it=5'],
    ['garbage', '=;,;=,"'],
    ['respond-async with a value', 'respond-async=yes'],
  ])('ignores %s', (_name, header) => {
    expect(parsePrefer(header)).toEqual({ respondAsync: false });
  });

  it('keeps the first of a repeated preference, and ignores parameters and unknown preferences', () => {
    expect(parsePrefer('wait=2, wait=30').waitS).toBe(2);
    expect(parsePrefer('respond-async; foo=bar, return=minimal')).toEqual({ respondAsync: true });
    expect(parsePrefer('foo="a,b", wait=4')).toEqual({ respondAsync: false, waitS: 4 });
  });

  it('answers nothing for no header', () => {
    expect(parsePrefer(undefined)).toEqual({ respondAsync: false });
  });
});

describe('appliedPreferences', () => {
  it('lists what was honoured', () => {
    expect(appliedPreferences(true, undefined)).toBe('respond-async');
    expect(appliedPreferences(false, 5)).toBe('wait=5');
    expect(appliedPreferences(false, undefined)).toBeUndefined();
  });
});
