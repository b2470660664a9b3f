import { randomBytes, randomUUID } from 'node:crypto';
import type { TestApp } from './test-app';

export interface RegisteredUser {
  userId: string;
  email: string;
  accessToken: string;
}

/**
 * Registers a fresh account through `POST /v1/auth/register` (random email, random 16-character
 * password) and returns its access token. Registration is limited per client IP
 * (AUTH_RATE_LIMIT_PER_MINUTE): suites that register many users raise it.
 */
export async function registerUser(t: TestApp): Promise<RegisteredUser> {
  const email = `user-${randomUUID()}@example.com`;
  const password = randomBytes(8).toString('hex');
  const res = await t.http().post('/v1/auth/register').send({ email, password });
  if (res.status !== 201) {
    throw new Error(`registration failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  }
  const body = res.body as { user: { id: string }; accessToken: string };
  return { userId: body.user.id, email, accessToken: body.accessToken };
}

/** `{ Authorization: 'Bearer …' }` for supertest's `.set()`. */
export function bearer(user: Pick<RegisteredUser, 'accessToken'>): Record<string, string> {
  return { Authorization: `Bearer ${user.accessToken}` };
}
