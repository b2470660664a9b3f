import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../config/config.types';
import { PasswordHasher } from './password-hasher.service';

function hasherWithCost(bcryptCost: number): PasswordHasher {
  return new PasswordHasher(new ConfigService<AppConfig, true>({ auth: { bcryptCost } }));
}

describe('PasswordHasher', () => {
  let sut: PasswordHasher;

  beforeAll(async () => {
    sut = hasherWithCost(4);
    await sut.onModuleInit();
  });

  it('makes a bcrypt hash at the configured cost that verifies the password', async () => {
    const hash = await sut.hash('correct horse battery staple');

    expect(hash).toMatch(/^\$2b\$04\$/);
    await expect(sut.verify('correct horse battery staple', hash)).resolves.toBe(true);
    await expect(sut.verify('correct horse battery stapler', hash)).resolves.toBe(false);
  });

  it('tells apart two passwords that share their first 72 bytes', async () => {
    const shared = 'a'.repeat(72);
    const hash = await sut.hash(`${shared}-first`);

    await expect(sut.verify(`${shared}-first`, hash)).resolves.toBe(true);
    await expect(sut.verify(`${shared}-second`, hash)).resolves.toBe(false);
    await expect(sut.verify(shared, hash)).resolves.toBe(false);
  });

  it('counts every byte of a long multi-byte password (128 chars, over 72 bytes)', async () => {
    const password = 'ü'.repeat(127) + 'x';
    const hash = await sut.hash(password);

    expect(Buffer.byteLength(password)).toBeGreaterThan(72);
    await expect(sut.verify(password, hash)).resolves.toBe(true);
    await expect(sut.verify('ü'.repeat(127) + 'y', hash)).resolves.toBe(false);
  });

  it('is not fooled by a NUL byte (bcrypt would stop reading there)', async () => {
    const hash = await sut.hash('prefix-password\u0000one');

    await expect(sut.verify('prefix-password\u0000two', hash)).resolves.toBe(false);
  });

  it('matches the same password typed in another Unicode normal form', async () => {
    const composed = 'Passwörter-sind-lang'; // ö as one code point (NFC)
    const decomposed = composed.normalize('NFD'); // o + combining diaeresis
    const hash = await sut.hash(composed);

    expect(decomposed).not.toBe(composed);
    await expect(sut.verify(decomposed, hash)).resolves.toBe(true);
  });

  it('answers false without a hash, after comparing against the dummy hash', async () => {
    await expect(sut.verify('correct horse battery staple', null)).resolves.toBe(false);
    await expect(sut.verify('correct horse battery staple', undefined)).resolves.toBe(false);
  });

  it('asks for a re-hash only when the stored cost is below the configured one', async () => {
    const cheap = await sut.hash('correct horse battery staple');
    const stronger = hasherWithCost(5);

    expect(sut.needsRehash(cheap)).toBe(false);
    expect(stronger.needsRehash(cheap)).toBe(true);
  });
});
