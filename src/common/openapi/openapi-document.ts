import { STATUS_CODES } from 'node:http';
import type { OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_DESCRIPTIONS, ProblemStatus } from './api-problems.decorator';
import { PROBLEM_SCHEMA, PROBLEM_SCHEMA_NAME, problemContent } from './problem.schema';

/**
 * The `X-RateLimit-*` header names of one rate limit counting a route. The rate-limit room marks
 * each handler with the limits that count it (src/rate-limit/rate-limit.openapi.ts) under this
 * extension; the finisher turns the mark into response headers and a 429, then removes it.
 */
export const RATE_LIMIT_EXTENSION = 'x-argus-rate-limits';

export interface RouteRateLimit {
  name: string;
  limit: string;
  remaining: string;
  reset: string;
}

/** Largest configurable limit (RATE_LIMIT_PER_MINUTE and the scoped ones, src/config). */
const MAX_CONFIGURABLE_LIMIT = 1_000_000;
const INT32_MAX = 2_147_483_647;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

type Json = Record<string, unknown>;
type Operation = Json & {
  operationId?: string;
  tags?: string[];
  parameters?: Json[];
  requestBody?: Json & { content?: Record<string, unknown> };
  responses: Record<string, Json & { description?: string; content?: unknown; headers?: Record<string, unknown> }>;
  security?: unknown[];
};

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/**
 * Completes what decorators cannot say once per operation (docs/api.md, "OpenAPI document"): every
 * error response carries the `Problem` schema; every response the `X-Request-ID` and CORS headers;
 * rate-limited routes their `X-RateLimit-*` headers and a 429 with `Retry-After`; a 401 its
 * `WWW-Authenticate`; every operation a 500, operations with inputs a 400, JSON bodies a 413.
 * Schema names drop the `Dto` suffix; `paths` and components are sorted so the committed
 * `openapi.json` diffs cleanly. Pure: the same input gives the same document.
 */
export function finishDocument(input: OpenAPIObject): OpenAPIObject {
  const document = renameSchemas(structuredClone(input) as unknown as Json) as unknown as OpenAPIObject;
  const limitsSeen = new Map<string, RouteRateLimit>();

  for (const { operation } of operationsOf(document)) {
    operation.parameters = mergeHeaderParameters(operation.parameters)?.map(exampleOnParameter);
    const limits = (operation[RATE_LIMIT_EXTENSION] as RouteRateLimit[] | undefined) ?? [];
    delete operation[RATE_LIMIT_EXTENSION];
    for (const limit of limits) limitsSeen.set(limit.name, limit);
    completeResponses(operation, limits);
  }

  const components = (document.components ??= {});
  components.schemas = sortKeys({ ...components.schemas, [PROBLEM_SCHEMA_NAME]: structuredClone(PROBLEM_SCHEMA) });
  components.headers = sortKeys({
    ...components.headers,
    ...sharedHeaders([...limitsSeen.values()]),
  }) as typeof components.headers;
  for (const schema of schemasOf(document)) boundByConstruction(schema);
  document.paths = sortKeys(document.paths);
  return document;
}

/**
 * What a finished document must not contain: duplicate or missing operation ids, undeclared tags,
 * `Dto` schema names. Empty when sound; the OpenAPI e2e test and `npm run openapi` check it.
 */
export function documentProblems(document: OpenAPIObject): string[] {
  const problems: string[] = [];
  const declaredTags = new Set((document.tags ?? []).map((tag) => tag.name));
  const ids = new Map<string, string>();
  for (const { path, method, operation } of operationsOf(document)) {
    const where = `${method.toUpperCase()} ${path}`;
    if (!operation.operationId) problems.push(`${where}: no operationId`);
    else if (ids.has(operation.operationId)) {
      problems.push(`${where}: operationId ${operation.operationId} also used by ${ids.get(operation.operationId)}`);
    } else ids.set(operation.operationId, where);
    for (const tag of operation.tags ?? []) {
      if (!declaredTags.has(tag)) problems.push(`${where}: tag "${tag}" has no description in the document's tags`);
    }
  }
  for (const name of Object.keys(document.components?.schemas ?? {})) {
    if (/Dto$/.test(name)) problems.push(`schema ${name} keeps its Dto suffix`);
  }
  return problems;
}

/** `operationIdFactory` fallback for operations without an explicit `operationId`: `liveHealth`. */
export function fallbackOperationId(controllerKey: string, methodKey: string): string {
  return methodKey + controllerKey.replace(/Controller$/, '');
}

function completeResponses(operation: Operation, limits: readonly RouteRateLimit[]): void {
  const responses = (operation.responses ??= {});
  const hasInputs = (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
  const addProblem = (status: ProblemStatus) => {
    responses[status] ??= { description: PROBLEM_DESCRIPTIONS[status], content: problemContent() };
  };
  if (hasInputs) addProblem(400);
  if (operation.security?.length) addProblem(401);
  if (operation.requestBody?.content?.['application/json']) addProblem(413);
  if (limits.length > 0) addProblem(429);
  addProblem(500);

  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    if (!response.description) response.description = STATUS_CODES[code] ?? 'Response';
    if (code >= 400 && response.content === undefined) response.content = problemContent();
    const headers: Record<string, unknown> = {
      'X-Request-ID': headerRef('X-Request-ID'),
      'Access-Control-Allow-Origin': headerRef('Access-Control-Allow-Origin'),
    };
    if ((code >= 200 && code < 300) || (code >= 400 && code < 500)) {
      for (const limit of limits) {
        for (const name of [limit.limit, limit.remaining, limit.reset]) headers[name] = headerRef(name);
      }
    }
    if (code === 401) headers['WWW-Authenticate'] = headerRef('WWW-Authenticate');
    if (code === 429 || code === 503) headers['Retry-After'] = headerRef('Retry-After');
    response.headers = { ...headers, ...response.headers };
    // One Retry-After everywhere (whole seconds, bounded), whoever declared it.
    if (response.headers['Retry-After']) response.headers['Retry-After'] = headerRef('Retry-After');
  }
}

/**
 * Header names are case-insensitive: `@Headers('prefer')` makes Nest list a bare, required `prefer`
 * beside the `@ApiHeader({ name: 'Prefer' })` that documents it. Keep one per name, the documented
 * one (with a description), never turning an optional header required.
 */
function mergeHeaderParameters(parameters: Json[] | undefined): Json[] | undefined {
  if (!parameters) return parameters;
  const headers = new Map<string, Json>();
  const merged: Json[] = [];
  for (const parameter of parameters) {
    if (parameter.in !== 'header' || typeof parameter.name !== 'string') {
      merged.push(parameter);
      continue;
    }
    const key = parameter.name.toLowerCase();
    const seen = headers.get(key);
    if (!seen) {
      headers.set(key, parameter);
      merged.push(parameter);
    } else if (!seen.description && parameter.description) {
      merged[merged.indexOf(seen)] = parameter;
      headers.set(key, parameter);
    }
  }
  return merged;
}

/**
 * Nest keeps a parameter's example in its schema; tools that read the parameter's own `example`
 * (dredd fills path and query parameters from it) get a copy.
 */
function exampleOnParameter(parameter: Json): Json {
  const schemaExample = (parameter.schema as Json | undefined)?.example;
  if (parameter.example !== undefined || parameter.examples !== undefined || schemaExample === undefined) {
    return parameter;
  }
  return { ...parameter, example: schemaExample };
}

function sharedHeaders(limits: readonly RouteRateLimit[]): Record<string, unknown> {
  const integer = (minimum: number, maximum: number) => ({ type: 'integer', format: 'int32', minimum, maximum });
  const headers: Record<string, unknown> = {
    'X-Request-ID': {
      description: 'The request’s correlation id: the X-Request-ID sent when it was valid, else a new UUID.',
      schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$', maxLength: 128 },
    },
    'Access-Control-Allow-Origin': {
      description:
        'Only when the request’s Origin is listed in ALLOWED_ORIGINS (that origin, echoed); absent otherwise.',
      schema: { type: 'string', format: 'uri', maxLength: 2048 },
    },
    'WWW-Authenticate': {
      description: 'The scheme to authenticate with.',
      schema: { type: 'string', enum: ['Bearer'] },
    },
    'Retry-After': {
      description: 'Whole seconds to wait before retrying (a daily quota: until midnight UTC).',
      schema: integer(1, 86_400),
    },
  };
  for (const limit of limits) {
    const which =
      limit.name === 'default' ? 'the per-client-address limit of every /v1 route' : `the \`${limit.name}\` limit`;
    headers[limit.limit] = {
      description: `Requests allowed per minute by ${which}. On a 429, only the refusing limit's headers are sent.`,
      schema: integer(1, MAX_CONFIGURABLE_LIMIT),
    };
    headers[limit.remaining] = {
      description: `Requests left in the current window of ${which}.`,
      schema: integer(0, MAX_CONFIGURABLE_LIMIT),
    };
    headers[limit.reset] = {
      description: `Seconds until the window of ${which} frees a request.`,
      schema: integer(0, 60),
    };
  }
  return headers;
}

/**
 * Bounds that hold by construction, so no decorator has to repeat them: a UUID is 36 characters;
 * an integer without a format is int32 when its range fits, else int64.
 */
function boundByConstruction(schema: Json): void {
  if (schema.type === 'string' && schema.format === 'uuid' && schema.maxLength === undefined) {
    schema.maxLength = 36;
  }
  if (schema.type === 'integer' && schema.format === undefined) {
    const fits =
      typeof schema.minimum === 'number' &&
      typeof schema.maximum === 'number' &&
      schema.minimum >= -INT32_MAX - 1 &&
      schema.maximum <= INT32_MAX;
    schema.format = fits ? 'int32' : 'int64';
  }
}

/** `FooDto` → `Foo`, with every `$ref` rewritten; two classes that would share a name are refused. */
function renameSchemas(document: Json): Json {
  const schemas = ((document.components as Json | undefined)?.schemas ?? {}) as Record<string, unknown>;
  const renames = new Map<string, string>();
  for (const name of Object.keys(schemas)) {
    const renamed = name.replace(/Dto$/, '');
    if (renamed === name) continue;
    if (renamed in schemas || [...renames.values()].includes(renamed)) {
      throw new Error(`OpenAPI: schema ${name} would be renamed to ${renamed}, which already exists`);
    }
    renames.set(name, renamed);
  }
  if (renames.size === 0) return document;
  (document.components as Json).schemas = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [renames.get(name) ?? name, schema]),
  );
  const prefix = '#/components/schemas/';
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(prefix)) {
        const renamed = renames.get(value.slice(prefix.length));
        if (renamed) (node as Json).$ref = prefix + renamed;
      } else visit(value);
    }
  };
  visit(document);
  return document;
}

function* operationsOf(document: OpenAPIObject): Generator<{ path: string; method: string; operation: Operation }> {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = (item as Record<string, unknown>)[method] as Operation | undefined;
      if (operation) yield { path, method, operation };
    }
  }
}

/** Every schema object in the document, nested ones included (properties, items, compositions). */
function schemasOf(document: OpenAPIObject): Json[] {
  const found: Json[] = [];
  const seen = new Set<object>();
  const visitSchema = (schema: unknown): void => {
    if (!schema || typeof schema !== 'object' || seen.has(schema) || '$ref' in schema) return;
    seen.add(schema);
    const node = schema as Json;
    found.push(node);
    for (const value of Object.values((node.properties as Json | undefined) ?? {})) visitSchema(value);
    visitSchema(node.items);
    if (typeof node.additionalProperties === 'object') visitSchema(node.additionalProperties);
    for (const key of ['allOf', 'oneOf', 'anyOf'] as const) (node[key] as unknown[] | undefined)?.forEach(visitSchema);
    visitSchema(node.not);
  };
  const visitContent = (content: unknown) => {
    for (const media of Object.values((content as Record<string, Json> | undefined) ?? {})) visitSchema(media.schema);
  };
  Object.values(document.components?.schemas ?? {}).forEach(visitSchema);
  for (const header of Object.values(document.components?.headers ?? {})) visitSchema((header as Json).schema);
  for (const { operation } of operationsOf(document)) {
    for (const parameter of operation.parameters ?? []) visitSchema(parameter.schema);
    visitContent(operation.requestBody?.content);
    for (const response of Object.values(operation.responses)) {
      visitContent(response.content);
      for (const header of Object.values(response.headers ?? {})) visitSchema((header as Json).schema);
    }
  }
  return found;
}

function sortKeys<T>(record: Record<string, T> | undefined): Record<string, T> {
  return Object.fromEntries(Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
