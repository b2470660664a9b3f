#!/usr/bin/env node
// `npm run client:generate`: the TypeScript client's types (clients/typescript/schema.d.ts) from the
// committed openapi.json, with openapi-typescript. `--check` writes nothing and fails when the
// committed types are stale (CI: `npm run openapi:check`; test/typed-client.e2e-spec.ts).
//
// Binary strings (`format: binary`: the upload's `file`/`files` parts, the image download) become
// `Blob`, what fetch's FormData takes and `parseAs: 'blob'` gives back, instead of `string`.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import openapiTS, { astToString } from 'openapi-typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = resolve(root, 'openapi.json');
const target = resolve(root, 'clients', 'typescript', 'schema.d.ts');

const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier('Blob'));
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());

const ast = await openapiTS(JSON.parse(readFileSync(source, 'utf8')), {
  transform(schema) {
    if (schema.format !== 'binary') return undefined;
    return schema.nullable ? ts.factory.createUnionTypeNode([BLOB, NULL]) : BLOB;
  },
});
const text =
  '// Generated from openapi.json by `npm run client:generate` (scripts/generate-client.mjs). Do not edit.\n' +
  astToString(ast);

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // missing: stale
  }
  if (committed !== text) {
    console.error(
      'client:generate: clients/typescript/schema.d.ts is stale: run `npm run client:generate` and commit it.',
    );
    process.exit(1);
  }
  console.log('client:generate: clients/typescript/schema.d.ts matches openapi.json');
} else {
  writeFileSync(target, text);
  console.log(`client:generate: wrote ${target}`);
}
