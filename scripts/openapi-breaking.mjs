#!/usr/bin/env node
// Fails when openapi.json breaks clients of the document committed at a base revision
// (docs/api.md, "OpenAPI document"): removed paths, methods or response fields, new required
// request fields, narrowed types. Runs offline with openapi-diff (both documents are local).
//
//   node scripts/openapi-breaking.mjs [--base <git revision>]     (default: OPENAPI_BASE_REF or HEAD)
//
// A deliberate breaking change passes when a commit between the base and HEAD says
// `[breaking-api]` in its message (and docs/api.md says what clients must do).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import openapiDiff from 'openapi-diff';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const args = process.argv.slice(2);
const baseArg = args.includes('--base') ? args[args.indexOf('--base') + 1] : undefined;
const base = baseArg || process.env.OPENAPI_BASE_REF || 'HEAD';

const git = (...gitArgs) =>
  execFileSync('git', gitArgs, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let before;
try {
  before = git('show', `${base}:openapi.json`);
} catch {
  console.log(`openapi:breaking: no openapi.json at ${base}; nothing to compare with`);
  process.exit(0);
}
const after = readFileSync(resolve(root, 'openapi.json'), 'utf8');
if (before === after) {
  console.log(`openapi:breaking: openapi.json is unchanged since ${base}`);
  process.exit(0);
}

/**
 * What the diff compares. openapi-diff's schema comparison (json-schema-diff) grows exponentially
 * with `oneOf` over large object schemas (the bulk lookup's items: over 10 minutes here), so a
 * `oneOf` is compared as "any value" — its branches are compared where operations use them directly
 * (IpReputation: GET /v1/ip/{address}). Prose and examples change nothing for a client; response
 * headers are all optional here (openapi-diff calls adding or removing those compatible anyway).
 */
function comparable(text) {
  // `inResponse`: the node is a response object (a value of a `responses` map).
  const strip = (node, parentKey, inResponse = false) => {
    if (Array.isArray(node)) return node.map((item) => strip(item));
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (parentKey === 'properties') out[key] = strip(value, key);
      else if (key === 'description' && typeof value === 'string') out[key] = '';
      else if (key === 'example' || key === 'examples' || key === 'oneOf') continue;
      else if (key === 'headers' && inResponse) continue;
      else out[key] = strip(value, key, parentKey === 'responses');
    }
    return out;
  };
  return JSON.stringify(strip(JSON.parse(text)));
}

const result = await openapiDiff.diffSpecs({
  sourceSpec: { content: comparable(before), location: `${base}:openapi.json`, format: 'openapi3' },
  destinationSpec: { content: comparable(after), location: 'openapi.json', format: 'openapi3' },
});
const describe = (difference) =>
  `  ${difference.code} ${difference.sourceSpecEntityDetails?.[0]?.location ?? ''}` +
  `${difference.destinationSpecEntityDetails?.[0]?.location ? ` -> ${difference.destinationSpecEntityDetails[0].location}` : ''}`;

if (result.breakingDifferencesFound) {
  console.error(`openapi:breaking: ${result.breakingDifferences.length} breaking change(s) against ${base}:`);
  for (const difference of result.breakingDifferences) console.error(describe(difference));
  const messages = base === 'HEAD' ? '' : git('log', '--format=%B', `${base}..HEAD`);
  if (/\[breaking-api\]/.test(messages)) {
    console.error('openapi:breaking: allowed by a [breaking-api] commit since the base');
    process.exit(0);
  }
  console.error('Keep the change compatible, or say [breaking-api] in the commit message and document it.');
  process.exit(1);
}
const others = [...(result.nonBreakingDifferences ?? []), ...(result.unclassifiedDifferences ?? [])];
console.log(`openapi:breaking: no breaking change against ${base} (${others.length} compatible difference(s))`);
