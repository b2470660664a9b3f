import { STATUS_CODES } from 'node:http';

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, as every error response of the API carries them (docs/api.md, Conventions). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  requestId: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export function problemType(slug: string): string {
  return `urn:argus:problem:${slug}`;
}

export function titleFor(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** A slug for statuses that have no domain code: 404 → `not-found`, 401 → `unauthorized`. */
export function slugFor(status: number): string {
  return titleFor(status)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/(^-|-$)/g, '');
}
