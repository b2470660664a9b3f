import { randomUUID } from 'node:crypto';
import { uuidV7, uuidV7Millis } from './uuid-v7';

describe('uuidV7', () => {
  it('carries its milliseconds and the version and variant bits', () => {
    const id = uuidV7(1_800_000_000_123);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidV7Millis(id)).toBe(1_800_000_000_123);
  });

  it('is unique for one millisecond', () => {
    expect(uuidV7(1)).not.toBe(uuidV7(1));
  });

  it('reads no time from a UUIDv4 or a non-UUID', () => {
    expect(uuidV7Millis(randomUUID())).toBeUndefined();
    expect(uuidV7Millis('forged-jti')).toBeUndefined();
  });
});
