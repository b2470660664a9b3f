import { Webhook } from 'standardwebhooks';
import { generateSecret, signDelivery } from './webhook-signature';

describe('Standard Webhooks signing (checked against the standardwebhooks reference verifier)', () => {
  const body = JSON.stringify({ type: 'analysis.succeeded', timestamp: '2030-06-01T12:00:00.000Z', data: { id: 'a' } });
  const now = () => Math.floor(Date.now() / 1000);

  it('makes whsec_ secrets of at least 24 random bytes', () => {
    const secrets = new Set(Array.from({ length: 50 }, generateSecret));
    expect(secrets.size).toBe(50);
    for (const secret of secrets) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
      expect(Buffer.from(secret.slice(6), 'base64').length).toBeGreaterThanOrEqual(24);
    }
  });

  it('signs so that Webhook#verify accepts the delivery and returns its body', () => {
    const secret = generateSecret();
    const headers = signDelivery(secret, 'msg_1', now(), body);

    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('matches the reference signer byte for byte', () => {
    const secret = generateSecret();
    const timestamp = now();
    const reference = new Webhook(secret).sign('msg_2', new Date(timestamp * 1000), body);
    expect(signDelivery(secret, 'msg_2', timestamp, body)['webhook-signature']).toBe(reference);
  });

  it.each([
    ['another secret', (h: Record<string, string>) => h, generateSecret(), body],
    ['a changed body', (h: Record<string, string>) => h, undefined, body.replace('"a"', '"b"')],
    ['another webhook-id', (h: Record<string, string>) => ({ ...h, 'webhook-id': 'msg_other' }), undefined, body],
    [
      'another timestamp',
      (h: Record<string, string>) => ({ ...h, 'webhook-timestamp': String(now() - 1) }),
      undefined,
      body,
    ],
  ])('is refused by the verifier with %s', (_case, alter, verifierSecret, payload) => {
    const secret = generateSecret();
    const headers = alter({ ...signDelivery(secret, 'msg_3', now(), body) });
    expect(() => new Webhook(verifierSecret ?? secret).verify(payload, headers)).toThrow();
  });

  it('refuses a secret without the whsec_ prefix', () => {
    expect(() => signDelivery('c2VjcmV0', 'msg_4', now(), body)).toThrow(/whsec_/);
  });
});
