import type { IncomingMessage } from 'node:http';

type RoutedRequest = IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };

/** Label for requests no route matched (404s), so raw paths never become label values. */
export const UNMATCHED_ROUTE = 'unmatched';

/** The route template (`/v1/ip/:address`), never the raw path; read once the response is done. */
export function routeTemplate(req: IncomingMessage): string {
  const { route, baseUrl } = req as RoutedRequest;
  // Nest answers unknown paths from a catch-all route (`/{*path}`): that is "unmatched" too.
  if (typeof route?.path !== 'string' || route.path.includes('*')) return UNMATCHED_ROUTE;
  return `${baseUrl ?? ''}${route.path}`;
}
