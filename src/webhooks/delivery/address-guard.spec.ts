import { AddressGuard, LookupAll, PinnedAddress, UnsafeWebhookUrlError } from './address-guard';

function lookupOf(answers: Record<string, PinnedAddress[]>): LookupAll & jest.Mock {
  return jest.fn((host: string) => {
    const found = answers[host];
    return found
      ? Promise.resolve(found)
      : Promise.reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
  });
}

describe('AddressGuard', () => {
  const lookup = lookupOf({
    'hooks.example.com': [
      { address: '93.184.215.14', family: 4 },
      { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
    ],
    'mixed.example.com': [
      { address: '93.184.215.14', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ],
    'metadata.example.com': [{ address: '169.254.169.254', family: 4 }],
    'empty.example.com': [],
  });

  it('resolves a public host and pins its first address', async () => {
    const sut = new AddressGuard(false, lookup);
    await expect(sut.resolve(new URL('https://hooks.example.com/x'))).resolves.toEqual({
      address: '93.184.215.14',
      family: 4,
    });
  });

  it('refuses a host when any address it resolves to is refused', async () => {
    const sut = new AddressGuard(false, lookup);
    await expect(sut.resolve(new URL('https://mixed.example.com/x'))).rejects.toThrow(
      new UnsafeWebhookUrlError('mixed.example.com resolves to 10.0.0.7, a private address'),
    );
    await expect(sut.resolve(new URL('https://metadata.example.com/x'))).rejects.toThrow(/cloud metadata/);
  });

  it('judges an address literal without asking DNS, IPv6 brackets and IPv4-mapped forms included', async () => {
    const sut = new AddressGuard(false, lookup);
    lookup.mockClear();
    await expect(sut.resolve(new URL('http://[::ffff:127.0.0.1]/'))).rejects.toThrow(/loopback/);
    await expect(sut.resolve(new URL('http://[2606:4700:4700::1111]:8443/'))).resolves.toEqual({
      address: '2606:4700:4700::1111',
      family: 6,
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses a host that does not resolve', async () => {
    const sut = new AddressGuard(false, lookup);
    await expect(sut.resolve(new URL('https://nowhere.example.com/'))).rejects.toThrow(
      new UnsafeWebhookUrlError('nowhere.example.com does not resolve'),
    );
    await expect(sut.resolve(new URL('https://empty.example.com/'))).rejects.toThrow(UnsafeWebhookUrlError);
  });

  it('checks on every call, so an answer that changed since registration is refused (rebinding)', async () => {
    const rebinding = jest
      .fn<Promise<PinnedAddress[]>, [string]>()
      .mockResolvedValueOnce([{ address: '93.184.215.14', family: 4 }])
      .mockResolvedValueOnce([{ address: '127.0.0.1', family: 4 }]);
    const sut = new AddressGuard(false, rebinding);
    await expect(sut.resolve(new URL('https://rebind.example.com/'))).resolves.toBeDefined();
    await expect(sut.resolve(new URL('https://rebind.example.com/'))).rejects.toThrow(/loopback/);
  });

  it('lets private addresses through with WEBHOOK_ALLOW_PRIVATE, still pinned', async () => {
    const sut = new AddressGuard(true, lookup);
    await expect(sut.resolve(new URL('http://127.0.0.1:8080/'))).resolves.toEqual({ address: '127.0.0.1', family: 4 });
    await expect(sut.resolve(new URL('https://mixed.example.com/x'))).resolves.toEqual({
      address: '93.184.215.14',
      family: 4,
    });
  });
});
