import { Injectable, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import * as bcrypt from 'bcrypt';
import { createHmac, randomBytes } from 'node:crypto';
import { AppConfig } from '../config/config.types';

/**
 * Domain-separation key of the pre-hash. It is not a secret (a secret pepper would have to be
 * rotated with every password); changing it invalidates every stored hash.
 */
const PREHASH_KEY = 'argus:password:v1';

/**
 * bcrypt behind one small injectable. bcrypt reads only the first 72 bytes of its input (and stops
 * at a NUL byte), so a password is first reduced to HMAC-SHA256 → base64 (44 ASCII bytes): every
 * byte of a password counts, and two passwords that share their first 72 bytes stay different.
 * Passwords are NFKC-normalised first, so the same password typed on different keyboards matches.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly cost: number;
  /** Compared against when there is no user, so unknown emails cost as much time as wrong passwords. */
  private dummyHash = '';

  constructor(config: ConfigService<AppConfig, true>) {
    this.cost = config.get('auth.bcryptCost', { infer: true });
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await bcrypt.hash(randomBytes(32).toString('base64'), this.cost);
  }

  hash(password: string): Promise<string> {
    return bcrypt.hash(prehash(password), this.cost);
  }

  /**
   * True when `password` matches `hash`. Without a hash (unknown user, account without password)
   * it still runs one comparison against the dummy hash, then answers false.
   */
  async verify(password: string, hash: string | null | undefined): Promise<boolean> {
    const matches = await bcrypt.compare(prehash(password), hash || (await this.getDummyHash()));
    return Boolean(hash) && matches;
  }

  /** True when `hash` was made with a lower cost than configured (re-hash on the next login). */
  needsRehash(hash: string): boolean {
    return bcrypt.getRounds(hash) < this.cost;
  }

  private async getDummyHash(): Promise<string> {
    if (!this.dummyHash) this.dummyHash = await bcrypt.hash(randomBytes(32).toString('base64'), this.cost);
    return this.dummyHash;
  }
}

function prehash(password: string): string {
  return createHmac('sha256', PREHASH_KEY).update(password.normalize('NFKC'), 'utf8').digest('base64');
}
