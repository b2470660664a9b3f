import type { OpenAPIObject } from '@nestjs/swagger';
import { documentProblems, fallbackOperationId, finishDocument, RATE_LIMIT_EXTENSION } from './openapi-document';

const limit = (name: string, suffix: string) => ({
  name,
  limit: `X-RateLimit-Limit${suffix}`,
  remaining: `X-RateLimit-Remaining${suffix}`,
  reset: `X-RateLimit-Reset${suffix}`,
});

function document(): OpenAPIObject {
  return {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    tags: [{ name: 'things', description: 'Things.' }],
    paths: {
      '/v1/things/{id}': {
        get: {
          operationId: 'getThing',
          tags: ['things'],
          security: [{ bearer: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
          responses: {
            '200': {
              description: '',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/ThingDto' } } },
            },
            '404': { description: 'No such thing.' },
          },
          [RATE_LIMIT_EXTENSION]: [limit('default', ''), limit('things', '-things')],
        },
      },
      '/health': { get: { operationId: 'getHealth', tags: ['things'], responses: { '200': { description: 'OK' } } } },
    },
    components: {
      schemas: {
        ThingDto: {
          type: 'object',
          properties: { count: { type: 'integer', minimum: 0, maximum: 10 }, big: { type: 'integer' } },
        },
      },
    },
  } as unknown as OpenAPIObject;
}

describe('finishDocument', () => {
  it('drops the Dto suffix from schema names and every $ref', () => {
    const sut = finishDocument(document());

    expect(Object.keys(sut.components!.schemas!)).toEqual(['Problem', 'Thing']);
    expect(JSON.stringify(sut)).not.toContain('ThingDto');
  });

  it('gives error responses the Problem schema and adds 400, 401, 429 and 500 where they apply', () => {
    const responses = finishDocument(document()).paths['/v1/things/{id}'].get!.responses as Record<
      string,
      { content?: unknown; headers: Record<string, unknown> }
    >;

    expect(Object.keys(responses).sort()).toEqual(['200', '400', '401', '404', '429', '500']);
    expect(responses['404'].content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
    expect(Object.keys(responses['401'].headers)).toContain('WWW-Authenticate');
    expect(Object.keys(responses['429'].headers)).toEqual(
      expect.arrayContaining(['Retry-After', 'X-RateLimit-Limit-things']),
    );
    expect(Object.keys(responses['200'].headers)).toEqual([
      'X-Request-ID',
      'Access-Control-Allow-Origin',
      'X-RateLimit-Limit',
      'X-RateLimit-Remaining',
      'X-RateLimit-Reset',
      'X-RateLimit-Limit-things',
      'X-RateLimit-Remaining-things',
      'X-RateLimit-Reset-things',
    ]);
    expect(responses['500'].headers['X-RateLimit-Limit']).toBeUndefined();
  });

  it('adds no rate-limit headers or 429 to a route no limit counts, and removes the marks', () => {
    const sut = finishDocument(document());
    const health = sut.paths['/health'].get!;

    expect(Object.keys(health.responses)).toEqual(['200', '500']);
    expect(JSON.stringify(sut)).not.toContain(RATE_LIMIT_EXTENSION);
  });

  it('bounds what holds by construction: UUIDs, integer formats', () => {
    const sut = finishDocument(document());
    const thing = sut.components!.schemas!.Thing as { properties: Record<string, { format?: string }> };

    expect(sut.paths['/v1/things/{id}'].get!.parameters![0]).toMatchObject({ schema: { maxLength: 36 } });
    expect(thing.properties.count.format).toBe('int32');
    expect(thing.properties.big.format).toBe('int64');
    expect(sut.components!.headers!['X-RateLimit-Limit-things']).toBeDefined();
  });

  it('keeps one parameter per header name, whatever its case: the documented one', () => {
    const input = document();
    const get = input.paths['/v1/things/{id}'].get!;
    get.parameters!.push(
      { name: 'prefer', in: 'header', required: true, schema: { type: 'string' } },
      { name: 'Prefer', in: 'header', required: false, description: 'wait=N', schema: { type: 'string' } },
    );

    const headers = finishDocument(input).paths['/v1/things/{id}'].get!.parameters!.filter(
      (p) => 'in' in p && p.in === 'header',
    );

    expect(headers).toEqual([expect.objectContaining({ name: 'Prefer', required: false, description: 'wait=N' })]);
  });

  it("copies a parameter's schema example onto the parameter (dredd reads it there)", () => {
    const input = document();
    const id = input.paths['/v1/things/{id}'].get!.parameters![0] as unknown as {
      schema: Record<string, unknown>;
    };
    id.schema.example = '0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11';

    expect(finishDocument(input).paths['/v1/things/{id}'].get!.parameters![0]).toMatchObject({
      example: '0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11',
      schema: { example: '0b7e4f0e-6a53-4c1e-9a57-3f1f8f0f2d11' },
    });
  });

  it('is deterministic and leaves its input alone', () => {
    const input = document();
    const before = JSON.stringify(input);

    expect(JSON.stringify(finishDocument(input))).toBe(JSON.stringify(finishDocument(document())));
    expect(JSON.stringify(input)).toBe(before);
  });

  it('refuses a rename onto an existing schema', () => {
    const input = document();
    input.components!.schemas!.Thing = { type: 'object' };

    expect(() => finishDocument(input)).toThrow(/ThingDto would be renamed to Thing/);
  });
});

describe('documentProblems', () => {
  it('reports duplicate ids, undeclared tags and Dto names', () => {
    const input = document();
    input.paths['/health'].get!.operationId = 'getThing';
    input.paths['/health'].get!.tags = ['nope'];

    expect(documentProblems(input)).toEqual([
      'GET /health: operationId getThing also used by GET /v1/things/{id}',
      'GET /health: tag "nope" has no description in the document\'s tags',
      'schema ThingDto keeps its Dto suffix',
    ]);
    expect(documentProblems(finishDocument(document()))).toEqual([]);
  });

  it('names operations without an explicit id after method and controller', () => {
    expect(fallbackOperationId('HealthController', 'live')).toBe('liveHealth');
  });
});
