import type { SchemaObject } from '@nestjs/swagger';

/** The media type of every error body (docs/api.md, "Errors"). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
export const PROBLEM_SCHEMA_NAME = 'Problem';
export const PROBLEM_SCHEMA_REF = `#/components/schemas/${PROBLEM_SCHEMA_NAME}`;

/** `content` of an error response: the RFC 9457 problem every error leaves the API as. */
export function problemContent(): Record<string, { schema: { $ref: string } }> {
  return { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: PROBLEM_SCHEMA_REF } } };
}

/**
 * RFC 9457 problem details as the global ProblemDetailsFilter writes them (src/common/errors): the
 * five standard members, the request id, and `errors` on validation failures. Registered once, in
 * components, by the document finisher.
 */
export const PROBLEM_SCHEMA: SchemaObject = {
  type: 'object',
  description:
    'RFC 9457 problem details. `type` names the failure (`urn:argus:problem:<slug>`, listed in docs/api.md); ' +
    '`requestId` is also the X-Request-ID response header and is in every log line of the request.',
  required: ['type', 'title', 'status', 'detail', 'instance', 'requestId'],
  properties: {
    type: {
      type: 'string',
      format: 'uri',
      pattern: '^urn:argus:problem:[a-z0-9-]+$',
      maxLength: 128,
      example: 'urn:argus:problem:validation-failed',
    },
    title: { type: 'string', maxLength: 128, description: 'The HTTP status text.', example: 'Bad Request' },
    status: { type: 'integer', format: 'int32', minimum: 400, maximum: 599, example: 400 },
    detail: {
      type: 'string',
      description: 'What went wrong, for a human; never internals (stack, SQL, paths, upstream messages).',
      example: 'The request has invalid fields.',
    },
    instance: {
      type: 'string',
      format: 'uri-reference',
      maxLength: 16384,
      description: 'The request path (without the query).',
      example: '/v1/auth/register',
    },
    requestId: {
      type: 'string',
      pattern: '^[A-Za-z0-9._:-]{1,128}$',
      maxLength: 128,
      example: '0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e',
    },
    errors: {
      type: 'array',
      description: 'Validation failures only: one entry per broken rule.',
      items: {
        type: 'object',
        required: ['field', 'message'],
        properties: {
          field: {
            type: 'string',
            description: 'The field, dotted for nested ones (`ips.3`, `metadata.album`).',
            example: 'password',
          },
          message: {
            type: 'string',
            example: 'password must be 12 to 128 characters long',
          },
        },
      },
    },
  },
};
