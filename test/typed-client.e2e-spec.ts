import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createArgusClient, isProblem, multipart, type ArgusClient, type Problem } from '../clients/typescript';
import { OpenAiFake } from './fakes/openai-fake';
import { uniqueJpeg } from './fixtures/images';
import { OpenApiContract } from './support/openapi-contract';
import { baseUrl, createTestApp, TestApp } from './support/test-app';

/** Type-level equality: a mismatch is a type error (`npm run typecheck`), not a runtime failure. */
type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** The error of a client call, as the generated types declare it. */
type ErrorOf<Call extends (...args: never[]) => Promise<{ error?: unknown }>> = NonNullable<
  Awaited<ReturnType<Call>>['error']
>;

describe('typed client (clients/typescript) against the app', () => {
  // The OpenAI-compatible fake answers analyses and moderation at once (the local models' load would
  // dominate this test); the client and the contract are what is under test here.
  const openai = new OpenAiFake();
  let t: TestApp;
  let argus: ArgusClient;
  let accessToken: string | undefined;
  const contract = new OpenApiContract();
  const exchanges: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    await openai.start();
    t = await createTestApp(
      {
        RATE_LIMIT_PER_MINUTE: '100000',
        AUTH_RATE_LIMIT_PER_MINUTE: '100000',
        AI_PROVIDER: 'openai',
        MODERATION_PROVIDER: 'openai',
        OPENAI_API_KEY: openai.apiKey,
        OPENAI_BASE_URL: `${openai.url}/v1`,
      },
      { listen: true },
    );
    argus = createArgusClient({ baseUrl: baseUrl(t), accessToken: () => accessToken });
    // Every response the client sees is checked against openapi.json (test/support/openapi-contract.ts).
    argus.use({
      async onResponse({ request, response }) {
        const text = await response.clone().text();
        const json = /json/.test(response.headers.get('content-type') ?? '');
        const exchange = {
          method: request.method,
          path: new URL(request.url).pathname,
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: text === '' ? undefined : json ? (JSON.parse(text) as unknown) : text,
        };
        exchanges.push(`${exchange.method} ${exchange.path} ${exchange.status}`);
        violations.push(...contract.violations(exchange));
        return response;
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await openai.close();
  });

  it('is generated from the committed openapi.json (`npm run client:generate` when this fails)', () => {
    const root = join(__dirname, '..');
    expect(() =>
      execFileSync(process.execPath, [join(root, 'scripts', 'generate-client.mjs'), '--check'], {
        cwd: root,
        stdio: 'pipe',
      }),
    ).not.toThrow();
  });

  it('drives register → login → upload → get → list → IP lookup → report → bulk → logout', async () => {
    const email = `typed-client-${Date.now()}@example.com`;
    const password = 'correct horse battery staple';

    const registered = await argus.POST('/v1/auth/register', { body: { email, password } });
    expect(registered.response.status).toBe(201);
    expect(registered.data!.user.email).toBe(email);

    const refused = await argus.POST('/v1/auth/login', { body: { email, password: 'not the password' } });
    const loginErrorIsProblem: Equals<ErrorOf<typeof login>, Problem> = true;
    expect(loginErrorIsProblem).toBe(true);
    expect(refused.response.status).toBe(401);
    expect(isProblem(refused.error)).toBe(true);
    expect(refused.error).toMatchObject({ status: 401, type: expect.stringMatching(/^urn:argus:problem:/) });

    const session = await login(argus, email, password);
    expect(session.response.status).toBe(200);
    accessToken = session.data!.accessToken;

    const file = new Blob([new Uint8Array(await uniqueJpeg())], { type: 'image/jpeg' });
    const uploaded = await upload(argus, file);
    const uploadErrorIsProblem: Equals<ErrorOf<typeof upload>, Problem> = true;
    expect(uploadErrorIsProblem).toBe(true);
    expect([201, 202]).toContain(uploaded.response.status);
    const id = uploaded.data!.id;
    expect(uploaded.data!.metadata).toEqual({ album: 'typed-client' });

    const deadline = Date.now() + 30_000;
    let analysis = uploaded.data!;
    while (analysis.status !== 'succeeded' && analysis.status !== 'failed' && Date.now() < deadline) {
      const polled = await argus.GET('/v1/analyses/{id}', { params: { path: { id }, header: { Prefer: 'wait=10' } } });
      analysis = polled.data!;
    }
    expect(analysis).toMatchObject({ id, status: 'succeeded', image: { format: expect.any(String) } });

    const page = await argus.GET('/v1/analyses', { params: { query: { limit: 10 } } });
    expect(page.data!.items.map((item) => item.id)).toContain(id);

    const missing = await argus.GET('/v1/analyses/{id}', {
      params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
    });
    expect(missing.response.status).toBe(404);
    expect(missing.error?.status).toBe(404);

    const reputation = await argus.GET('/v1/ip/{address}', { params: { path: { address: '8.8.8.8' } } });
    expect(reputation.data).toMatchObject({ ip: '8.8.8.8', version: 4, scope: 'public' });

    const report = await argus.POST('/v1/ip/{address}/reports', {
      params: { path: { address: '203.0.113.77' } },
      body: { categories: [18, 22], comment: 'SSH brute force (typed client test)' },
    });
    // A documentation address is not public: refused with a typed problem.
    expect(report.response.status).toBe(400);
    expect(report.error?.type).toMatch(/^urn:argus:problem:/);
    const reported = await argus.POST('/v1/ip/{address}/reports', {
      params: { path: { address: '8.8.4.4' } },
      body: { categories: [18, 22], comment: 'SSH brute force (typed client test)' },
    });
    expect(reported.response.status).toBe(201);
    expect(reported.data).toMatchObject({ ip: '8.8.4.4', categories: [18, 22] });

    const bulk = await argus.POST('/v1/ip/lookup', { body: { ips: ['8.8.8.8', 'not-an-ip'] } });
    expect(bulk.response.status).toBe(200);
    expect(bulk.data!.items).toHaveLength(2);

    const out = await argus.POST('/v1/auth/logout', { body: { refreshToken: session.data!.refreshToken } });
    expect(out.response.status).toBe(204);
    const after = await argus.GET('/v1/auth/me');
    expect(after.response.status).toBe(401);
    expect(after.response.headers.get('www-authenticate')).toBe('Bearer');
    expect(isProblem(after.error)).toBe(true);
  }, 60_000);

  it('saw only responses the document describes', () => {
    expect(exchanges.length).toBeGreaterThanOrEqual(12);
    expect(violations).toEqual([]);
  });
});

function login(client: ArgusClient, email: string, password: string) {
  return client.POST('/v1/auth/login', { body: { email, password } });
}

function upload(client: ArgusClient, file: Blob) {
  return client.POST('/v1/analyses', {
    params: { header: { Prefer: 'respond-async' } },
    body: { file, prompt: 'What colour is it?', metadata: '{"album":"typed-client"}' },
    bodySerializer: multipart,
  });
}
