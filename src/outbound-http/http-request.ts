import { OperationContext, OutboundRequest, OutboundResponse, QueryValue } from './outbound-http.types';
import { HttpStatusError } from './http-error.classifier';

const JSON_MEDIA_TYPE = /[/+]json\b/i;

/** The target URL with `query` appended; `undefined` values are left out. */
export function buildUrl(base: string, query: Record<string, QueryValue> = {}): URL {
  const url = new URL(base);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.append(name, String(value));
  }
  return url;
}

/** Caller headers win; JSON defaults and the correlation id fill in what they leave out. */
export function buildHeaders(req: OutboundRequest, requestId: string | undefined): Headers {
  const headers = new Headers(req.headers);
  if (!headers.has('accept')) headers.set('accept', 'application/json');
  if (req.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  if (requestId !== undefined && !headers.has('x-request-id')) headers.set('x-request-id', requestId);
  return headers;
}

/** One attempt of `OutboundHttpService.request`: 2xx resolves, anything else throws `HttpStatusError`. */
export async function sendRequest(url: URL, req: OutboundRequest, ctx: OperationContext): Promise<OutboundResponse> {
  const response = await fetch(url, {
    method: req.method ?? 'GET',
    headers: buildHeaders(req, ctx.requestId),
    body: req.body === undefined ? undefined : JSON.stringify(req.body),
    signal: ctx.signal,
    // Following a redirect would resend API-key headers to wherever the Location points.
    redirect: 'manual',
  });
  if (response.status < 200 || response.status > 299) {
    await response.body?.cancel();
    throw new HttpStatusError(response.status, response.headers);
  }
  return { status: response.status, headers: response.headers, body: await readBody(response) };
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  return JSON_MEDIA_TYPE.test(response.headers.get('content-type') ?? '') ? (JSON.parse(text) as unknown) : text;
}
