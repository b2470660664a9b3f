/** Registers a fresh account on a running Argus and returns its access token. */
export async function registerBenchUser(
  base: string,
  email = `bench-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`,
  password = 'bench-password-123',
): Promise<string> {
  const res = await fetch(`${base}/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 201) throw new Error(`register failed: HTTP ${res.status}`);
  return ((await res.json()) as { accessToken: string }).accessToken;
}
