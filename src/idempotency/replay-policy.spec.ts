import { isReplayable } from './replay-policy';

describe('isReplayable', () => {
  it.each([200, 201, 202, 204, 303, 400, 404, 410, 413, 415, 422])('keeps a %i the operation answered', (status) => {
    expect(isReplayable(status, false)).toBe(true);
  });

  it.each([401, 403, 408, 409, 425, 429, 500, 502, 503, 504])(
    'does not keep a %i: a retry may go otherwise',
    (status) => {
      expect(isReplayable(status, false)).toBe(false);
    },
  );

  it('does not keep a refusal of the request before its handler ran (validation failed)', () => {
    expect(isReplayable(400, true)).toBe(false);
  });
});
