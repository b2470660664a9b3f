import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import request from 'supertest';
import type { TestApp } from './test-app';

/** The committed document (`npm run openapi`), the one clients generate from. */
export const OPENAPI_FILE = join(__dirname, '..', '..', 'openapi.json');

type Json = Record<string, unknown>;

/** One HTTP exchange, whatever made it (supertest, fetch through the typed client). */
export interface Exchange {
  method: string;
  /** The request path, without query (`/v1/analyses/0b7e…`). */
  path: string;
  status: number;
  /** Response headers, lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or undefined when there is none (or it is not JSON). */
  body: unknown;
}

interface Route {
  template: string;
  pattern: RegExp;
}

/**
 * Validates responses against the OpenAPI document with ajv, so code and document cannot drift:
 * the operation must exist, the status must be documented for it, the media type must be one it
 * documents, the JSON body must match the schema, and each documented header that is present must
 * match its schema. Use `contractHttp(t)` in place of `t.http()` to check every supertest response
 * of a suite, or `contract.check(exchange)` for anything else (see test/typed-client.e2e-spec.ts).
 */
export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly routes: Route[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly document: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema(toJsonSchema(document) as Json, 'openapi');
    this.routes = Object.keys(document.paths as Json)
      .map((template) => ({
        template,
        pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      }))
      // Literal segments win over parameters: /v1/ip/lookup before /v1/ip/{address}.
      .sort((a, b) => countParams(a.template) - countParams(b.template));
  }

  /** Problems of one exchange; empty when it matches the document. */
  violations(exchange: Exchange): string[] {
    const method = exchange.method.toLowerCase();
    const where = `${exchange.method.toUpperCase()} ${exchange.path} → ${exchange.status}`;
    const route = this.routes.find(
      ({ pattern, template }) => pattern.test(exchange.path) && this.operation(template, method),
    );
    if (!route) {
      // An unknown route's 404 (or a method the path does not have) is not an operation's answer.
      return exchange.status === 404 || exchange.status === 405 ? [] : [`${where}: no such operation in the document`];
    }
    const operation = this.operation(route.template, method)!;
    const responses = operation.responses as Record<string, Json>;
    const statusKey = [String(exchange.status), `${String(exchange.status)[0]}XX`, 'default'].find(
      (key) => key in responses,
    );
    if (!statusKey) {
      return [
        `${where}: status not documented for ${method.toUpperCase()} ${route.template} (has ${Object.keys(responses).join(', ')})`,
      ];
    }
    const response = this.deref(responses[statusKey]);
    const problems: string[] = [];
    const base = `#/paths/${pointer(route.template)}/${method}/responses/${statusKey}`;

    const content = response.content as Record<string, Json> | undefined;
    const contentType = headerValue(exchange.headers['content-type'])?.split(';')[0].trim().toLowerCase();
    if (content && Object.keys(content).length > 0) {
      if (!contentType || !(contentType in content)) {
        problems.push(
          `${where}: content type ${contentType ?? '(none)'} is not one of ${Object.keys(content).join(', ')}`,
        );
      } else if (content[contentType].schema && isJson(contentType)) {
        const validate = this.validator(`${base}/content/${pointer(contentType)}/schema`);
        if (!validate(exchange.body))
          problems.push(`${where}: body does not match the schema: ${this.ajv.errorsText(validate.errors)}`);
      }
    } else if (exchange.body !== undefined && exchange.body !== '' && !(isEmptyObject(exchange.body) && !contentType)) {
      problems.push(`${where}: a body was sent, the document says none`);
    }

    for (const [name, header] of Object.entries((response.headers as Record<string, Json> | undefined) ?? {})) {
      const value = headerValue(exchange.headers[name.toLowerCase()]);
      const resolved = this.deref(header);
      if (value === undefined || !resolved.schema) continue;
      const schema = resolved.schema as Json;
      const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
      const path = '$ref' in header ? `${String(header.$ref)}/schema` : `${base}/headers/${pointer(name)}/schema`;
      const validate = this.validator(path);
      if (!validate(typed))
        problems.push(`${where}: header ${name}: ${JSON.stringify(value)} ${this.ajv.errorsText(validate.errors)}`);
    }
    return problems;
  }

  /** Throws with every violation of the exchange. */
  check(exchange: Exchange): void {
    const problems = this.violations(exchange);
    if (problems.length > 0) throw new Error(`response does not match openapi.json:\n  ${problems.join('\n  ')}`);
  }

  /** The supertest response as an exchange. */
  static fromSupertest(res: request.Response): Exchange {
    const req = (res as unknown as { req: { method: string; path: string } }).req;
    const text = (res as unknown as { text?: string }).text;
    const isJsonBody = isJson(
      String(res.headers['content-type'] ?? '')
        .split(';')[0]
        .trim(),
    );
    return {
      method: req.method,
      path: req.path.split('?')[0],
      status: res.status,
      headers: res.headers as Record<string, string>,
      body: isJsonBody ? res.body : text ? text : undefined,
    };
  }

  private operation(template: string, method: string): Json | undefined {
    return ((this.document.paths as Json)[template] as Json | undefined)?.[method] as Json | undefined;
  }

  private validator(ref: string): ValidateFunction {
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.getSchema(`openapi${ref}`);
      if (!validate) throw new Error(`openapi contract: no schema at ${ref}`);
      this.validators.set(ref, validate);
    }
    return validate;
  }

  private deref(node: Json): Json {
    if (typeof node.$ref !== 'string') return node;
    const found = node.$ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, key) => (at as Json)[key.replace(/~1/g, '/').replace(/~0/g, '~')], this.document);
    return this.deref(found as Json);
  }
}

/**
 * `t.http()` with every response checked against the document: a response that does not match
 * fails the request's promise like a failed `.expect()`.
 */
export function contractHttp(
  t: TestApp,
  contract: OpenApiContract = sharedContract(),
): () => ReturnType<typeof request> {
  return () => {
    const agent = t.http();
    const methods = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options'] as const;
    const wrapped = Object.create(agent) as Record<string, unknown>;
    for (const method of methods) {
      wrapped[method] = (url: string) =>
        (agent[method] as (url: string) => request.Test)(url).expect((res: request.Response) =>
          contract.check(OpenApiContract.fromSupertest(res)),
        );
    }
    return wrapped as unknown as ReturnType<typeof request>;
  };
}

let shared: OpenApiContract | undefined;
/** One parsed document per test file. */
export function sharedContract(): OpenApiContract {
  return (shared ??= new OpenApiContract());
}

/**
 * OpenAPI 3.0 schemas as JSON Schema for ajv: `nullable: true` becomes "or null" (ajv's own
 * `nullable` only relaxes `type`, not an `allOf` of a $ref beside it).
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const copy: Json = {};
  for (const [key, value] of Object.entries(node)) copy[key] = key === 'example' ? value : toJsonSchema(value);
  if (copy.nullable === true) {
    delete copy.nullable;
    return { anyOf: [{ type: 'null' }, copy] };
  }
  return copy;
}

function countParams(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}

/** A JSON pointer segment, URI-encoded for a `$ref` fragment (`{id}` → `%7Bid%7D`). */
function pointer(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function isJson(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}
