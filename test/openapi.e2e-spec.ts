import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { documentProblems } from '../src/common/openapi/openapi-document';
import { contractHttp, OPENAPI_FILE, OpenApiContract } from './support/openapi-contract';
import { createTestApp, TestApp } from './support/test-app';

type Json = Record<string, unknown>;
type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: { name: string; in: string; example?: unknown; examples?: object; schema?: Json }[];
  responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }>;
};

const committed = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json & {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
};

function operations(): { where: string; path: string; operation: Operation }[] {
  return Object.entries(committed.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ where: `${method.toUpperCase()} ${path}`, path, operation })),
  );
}

/** Schemas a client can send: reachable from a request body or a parameter. */
function requestSchemas(): Set<string> {
  const found = new Set<string>();
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
        const name = value.split('/').pop()!;
        if (!found.has(name)) {
          found.add(name);
          visit(committed.components.schemas[name]);
        }
      } else visit(value);
    }
  };
  for (const { operation } of operations()) {
    visit(operation.parameters);
    visit((operation as Json).requestBody);
  }
  return found;
}

describe('OpenAPI document (docs/api.md, "OpenAPI document")', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t?.close());

  it('is the committed openapi.json: run `npm run openapi` and commit it when this fails', async () => {
    const served = (await t.http().get('/docs-json').expect(200)).body as Json;
    expect(served).toEqual(committed);
  });

  it('has readable, unique operation ids, declared tags and no Dto schema names', () => {
    expect(documentProblems(committed as never)).toEqual([]);
    for (const { where, operation } of operations()) {
      expect({ where, id: operation.operationId }).toEqual({ where, id: expect.stringMatching(/^[a-z][A-Za-z0-9]+$/) });
    }
  });

  it('lists a Problem response for every error status, a 500 everywhere, and the headers that go with them', () => {
    for (const { where, path, operation } of operations()) {
      expect({ where, has500: '500' in operation.responses }).toEqual({ where, has500: true });
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) >= 400 && !path.startsWith('/health')) {
          expect({ where, status, content: Object.keys(response.content ?? {}) }).toEqual({
            where,
            status,
            content: ['application/problem+json'],
          });
        }
        if (status === '401') expect(Object.keys(response.headers ?? {})).toContain('WWW-Authenticate');
        if (status === '429') expect(Object.keys(response.headers ?? {})).toContain('Retry-After');
      }
      if (path.startsWith('/v1/')) {
        expect({ where, has429: '429' in operation.responses }).toEqual({ where, has429: true });
        const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'))![1];
        expect(Object.keys(success.headers ?? {})).toEqual(
          expect.arrayContaining(['X-RateLimit-Limit', 'X-Request-ID']),
        );
      }
      if (operation.security?.length)
        expect({ where, has401: '401' in operation.responses }).toEqual({ where, has401: true });
    }
  });

  it('gives every path and query parameter an example and a bound (dredd and generated clients need them)', () => {
    const missing: string[] = [];
    for (const { where, operation } of operations()) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'path' && parameter.in !== 'query') continue;
        const schema = parameter.schema ?? {};
        if ((parameter.example ?? parameter.examples ?? schema.example) === undefined) {
          missing.push(`${where} ${parameter.name}: no example`);
        }
        const bounded = 'maxLength' in schema || 'enum' in schema || 'maximum' in schema;
        if (!bounded) missing.push(`${where} ${parameter.name}: no maxLength, enum or maximum`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('exempts from the input-size lint rules only schemas that no request uses (.spectral.yaml)', () => {
    const ruleset = parse(readFileSync(join(__dirname, '..', '.spectral.yaml'), 'utf8')) as {
      overrides: { files: string[]; rules: Record<string, string> }[];
    };
    const exempt = ruleset.overrides
      .filter(({ rules }) => rules['owasp:api4:2023-string-limit'] === 'off')
      .flatMap(({ files }) => files)
      .map((file) => /#\/components\/schemas\/(.+)$/.exec(file)?.[1])
      .filter((name): name is string => name !== undefined);
    const inputs = requestSchemas();

    expect(exempt.length).toBeGreaterThan(0);
    expect(exempt.filter((name) => inputs.has(name))).toEqual([]);
    expect(exempt.filter((name) => !(name in committed.components.schemas))).toEqual([]);
  });

  describe('the contract check (test/support/openapi-contract.ts)', () => {
    const contract = new OpenApiContract(committed);

    it('accepts what the app answers: health, a problem, a 401 and a success', async () => {
      const http = contractHttp(t, contract);
      await http().get('/health/live').expect(200);
      await http().post('/v1/auth/register').send({ email: 'not-an-email', password: 'short' }).expect(400);
      await http().get('/v1/auth/me').expect(401);
      const email = `openapi-${Date.now()}@example.com`;
      const registered = await http()
        .post('/v1/auth/register')
        .send({ email, password: 'correct horse battery' })
        .expect(201);
      await http()
        .get('/v1/auth/me')
        .set('Authorization', `Bearer ${(registered.body as { accessToken: string }).accessToken}`)
        .expect(200);
    });

    it('refuses a body, a status or a header the document does not describe', () => {
      const ok = { method: 'GET', path: '/health/live', headers: { 'content-type': 'application/json' } };
      expect(contract.violations({ ...ok, status: 200, body: { status: 'ok' } })).toEqual([]);
      expect(contract.violations({ ...ok, status: 200, body: { status: 42 } })).toEqual([
        expect.stringContaining('body does not match the schema'),
      ]);
      expect(contract.violations({ ...ok, status: 418, body: { status: 'ok' } })).toEqual([
        expect.stringContaining('status not documented'),
      ]);
      const problem = {
        type: 'urn:argus:problem:unauthorized',
        title: 'Unauthorized',
        status: 401,
        detail: 'x',
        instance: '/v1/auth/me',
        requestId: 'r-1',
      };
      const me = { method: 'GET', path: '/v1/auth/me', status: 401 };
      expect(
        contract.violations({ ...me, headers: { 'content-type': 'application/problem+json' }, body: problem }),
      ).toEqual([]);
      expect(contract.violations({ ...me, headers: { 'content-type': 'application/json' }, body: problem })).toEqual([
        expect.stringContaining('content type application/json'),
      ]);
      expect(
        contract.violations({
          ...me,
          headers: { 'content-type': 'application/problem+json', 'x-ratelimit-remaining': 'many' },
          body: { ...problem, requestId: undefined },
        }),
      ).toEqual([expect.stringContaining('body does not match'), expect.stringContaining('X-RateLimit-Remaining')]);
    });
  });
});
