import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { forbiddenAddressKind } from './address-policy';

/** Where a delivery connects: one address, checked, that the request is pinned to. */
export interface PinnedAddress {
  address: string;
  family: 4 | 6;
}

export type LookupAll = (hostname: string) => Promise<PinnedAddress[]>;

/** The URL may not be called: its host is or resolves to a refused address, or does not resolve. */
export class UnsafeWebhookUrlError extends Error {
  override readonly name = 'UnsafeWebhookUrlError';
}

const systemLookup: LookupAll = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

/**
 * SSRF guard of webhook delivery: resolves a URL's host and checks every address it resolves to
 * (one bad address refuses the URL: DNS may answer with any of them). The caller then connects
 * to the address returned here, so DNS cannot change the answer between check and connect.
 * `allowPrivate` (WEBHOOK_ALLOW_PRIVATE) skips the check, not the pinning.
 */
export class AddressGuard {
  constructor(
    private readonly allowPrivate: boolean,
    private readonly lookupAll: LookupAll = systemLookup,
  ) {}

  /** @throws UnsafeWebhookUrlError */
  async resolve(url: URL): Promise<PinnedAddress> {
    const host = hostOf(url);
    const literal = isIP(host);
    const addresses = literal ? [{ address: host, family: literal as 4 | 6 }] : await this.lookupHost(host);
    if (!this.allowPrivate) {
      for (const { address } of addresses) {
        const kind = forbiddenAddressKind(address);
        if (kind) {
          throw new UnsafeWebhookUrlError(literal ? `${host} is ${kind}` : `${host} resolves to ${address}, ${kind}`);
        }
      }
    }
    return addresses[0];
  }

  private async lookupHost(host: string): Promise<PinnedAddress[]> {
    let addresses: PinnedAddress[];
    try {
      addresses = await this.lookupAll(host);
    } catch {
      throw new UnsafeWebhookUrlError(`${host} does not resolve`);
    }
    if (addresses.length === 0) throw new UnsafeWebhookUrlError(`${host} does not resolve`);
    return addresses;
  }
}

/** The URL's host as a resolver or socket takes it: an IPv6 literal without its brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}
