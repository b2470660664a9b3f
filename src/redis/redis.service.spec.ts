import { ConfigService } from '@nestjs/config';
import { freePort } from '../../test/support/net';
import type { AppConfig } from '../config/config.types';
import { RedisService } from './redis.service';

function serviceFor(url: string | undefined): RedisService {
  return new RedisService(new ConfigService<AppConfig, true>({ redis: { url, keyPrefix: 'argus-unit:' } }));
}

describe('RedisService', () => {
  it('prefixes keys with the configured prefix', () => {
    const sut = serviceFor(undefined);

    expect(sut.key('lock', 'abc')).toBe('argus-unit:lock:abc');
  });

  describe('without REDIS_URL', () => {
    const sut = serviceFor(undefined);

    it('has no client and reports itself disabled', async () => {
      expect(sut.client).toBeUndefined();
      expect(sut.enabled).toBe(false);
      expect(sut.available).toBe(false);
      await expect(sut.ping()).resolves.toBe('disabled');
    });

    it('refuses to create extra clients', () => {
      expect(() => sut.createClient()).toThrow(/not configured/);
    });

    it('shuts down without a connection', async () => {
      await expect(sut.onModuleDestroy()).resolves.toBeUndefined();
    });
  });

  describe('with an unreachable server', () => {
    let sut: RedisService;

    beforeAll(async () => {
      sut = serviceFor(`redis://127.0.0.1:${await freePort()}`);
    });

    afterAll(() => sut.onModuleDestroy());

    it('answers the health ping with "down" at once and keeps the client', async () => {
      const started = Date.now();

      await expect(sut.ping()).resolves.toBe('down');
      expect(Date.now() - started).toBeLessThan(600);
      expect(sut.enabled).toBe(true);
      expect(sut.available).toBe(false);
    });

    it('fails commands fast instead of queueing them', async () => {
      await expect(sut.client?.get('x')).rejects.toThrow();
    });
  });
});
