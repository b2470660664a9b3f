/**
 * A typed client for the Argus API: openapi-fetch over the types openapi-typescript generates from
 * the committed openapi.json (`npm run client:generate` writes ./schema.d.ts). Every call answers
 * `{ data, error, response }`: `data` typed by the operation's success schema, `error` by its error
 * responses — the RFC 9457 `Problem` for every status the API documents.
 *
 *   const argus = createArgusClient({ baseUrl: 'https://argus.example.com', accessToken: () => token });
 *   const { data, error } = await argus.GET('/v1/ip/{address}', { params: { path: { address: '8.8.8.8' } } });
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from './schema';

export type { components, operations, paths };

/** The body of every error response (`application/problem+json`). */
export type Problem = components['schemas']['Problem'];
export type ArgusClient = Client<paths>;

export interface ArgusClientOptions extends ClientOptions {
  baseUrl: string;
  /** The access token, read before each request (a refreshed token is used at once); none → no header. */
  accessToken?: () => string | undefined;
}

export function createArgusClient({ accessToken, ...options }: ArgusClientOptions): ArgusClient {
  const client = createClient<paths>(options);
  if (accessToken) client.use(bearer(accessToken));
  return client;
}

/** `Authorization: Bearer <token>` on every request while a token is known. */
function bearer(accessToken: () => string | undefined): Middleware {
  return {
    onRequest({ request }) {
      const token = accessToken();
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      return request;
    },
  };
}

/**
 * The `bodySerializer` of the multipart operations (`POST /v1/analyses`, `/v1/analyses/batch`):
 * the typed body as FormData, arrays as repeated parts (`files`).
 */
export function multipart<T extends object>(body: T): FormData {
  const form = new FormData();
  for (const [name, value] of Object.entries(body) as [string, unknown][]) {
    for (const part of Array.isArray(value) ? value : [value]) {
      if (part === undefined) continue;
      form.append(name, part instanceof Blob ? part : String(part));
    }
  }
  return form;
}

/** True for an RFC 9457 problem body as the API writes it. */
export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.type === 'string' &&
    typeof candidate.title === 'string' &&
    typeof candidate.status === 'number' &&
    typeof candidate.requestId === 'string'
  );
}
