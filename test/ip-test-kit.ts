import request from 'supertest';
import { AbuseIpDbFake } from './fakes/abuseipdb-fake';
import { bearer, RegisteredUser, registerUser } from './support/auth';
import { createTestApp, TestApp, TestAppOptions } from './support/test-app';

import { eventually as eventuallyFrom } from './support/net';

export { eventually } from './support/net';

/** Every request of a suite comes from 127.0.0.1: generous per-IP limits unless a test is about them. */
export const GENEROUS_LIMITS = {
  RATE_LIMIT_PER_MINUTE: '100000',
  AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  IP_RATE_LIMIT_PER_MINUTE: '100000',
};

export const GOOD_KEY = 'abuseipdb-good-key-0123456789abcdef';

export interface IpSuite {
  t: TestApp;
  user: RegisteredUser;
  /** Authenticated supertest calls. */
  get(path: string): request.Test;
  post(path: string, body: object): request.Test;
}

/** The app pointed at the fake with `keys`, plus one signed-in user. */
export async function startIpSuite(
  fake: AbuseIpDbFake | undefined,
  env: Record<string, string> = {},
  options: TestAppOptions = {},
  keys: string[] = [GOOD_KEY],
): Promise<IpSuite> {
  const providerEnv: Record<string, string> = fake
    ? { ABUSEIPDB_API_KEY: keys.join(','), ABUSEIPDB_BASE_URL: `${fake.url}/api/v2` }
    : {};
  const t = await createTestApp({ ...GENEROUS_LIMITS, ...providerEnv, ...env }, options);
  const user = await registerUser(t);
  return suiteFor(t, user);
}

export function suiteFor(t: TestApp, user: RegisteredUser): IpSuite {
  return {
    t,
    user,
    get: (path) => t.http().get(path).set(bearer(user)),
    post: (path, body) => t.http().post(path).set(bearer(user)).send(body),
  };
}

/** `/v1/ip/<address>` with the address URL-encoded (IPv6 colons stay readable). */
export function ipPath(address: string, suffix = ''): string {
  return `/v1/ip/${encodeURIComponent(address).replace(/%3A/gi, ':')}${suffix}`;
}

let counter = 0;
/** A public IPv4 address no other test of this process has used (so nothing is cached or stored for it). */
export function freshPublicIp(): string {
  counter++;
  return `45.${33 + Math.floor(counter / 65_536)}.${Math.floor(counter / 256) % 256}.${counter % 256}`;
}

export function expectProblem(res: request.Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    status,
    type: expect.any(String),
    detail: expect.any(String),
    requestId: expect.any(String),
  });
}

/**
 * Waits until the app's offline enrichment is loaded (it loads after start-up, off the request
 * path, and lookups answer without it meanwhile): polls lookups of fresh addresses until one
 * carries an AS number. Under a loaded CI machine the load can take many seconds.
 */
export async function waitForEnrichment(s: IpSuite): Promise<void> {
  let probe = 0;
  await eventuallyFrom(
    async () => {
      probe++;
      const res = await s.get(ipPath(`8.8.${Math.floor(probe / 256) % 256}.${probe % 256}`));
      return res.status === 200 && res.body.asn !== null ? true : undefined;
    },
    'the offline IP enrichment to load',
    120_000,
  );
}
