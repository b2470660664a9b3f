/**
 * `npm run openapi` writes openapi.json at the repository root: the document of the app built from
 * this code with the embedded defaults (docs/api.md, "OpenAPI document"). `--check` writes nothing
 * and fails when the committed file differs (CI: `npm run openapi:check`).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildOpenApiDocument, createApp } from './app.setup';
import { documentProblems } from './common/openapi/openapi-document';

export const OPENAPI_FILE = resolve(__dirname, '..', 'openapi.json');

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const dataDir = mkdtempSync(join(tmpdir(), 'argus-openapi-'));
  try {
    // Embedded defaults only: the document depends on the code, never on a deployment's settings.
    const app = await createApp({ NODE_ENV: 'development', DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
    const document = buildOpenApiDocument(app);
    await app.close();

    const problems = documentProblems(document);
    if (problems.length > 0) {
      console.error(`openapi: the document is unsound:\n  ${problems.join('\n  ')}`);
      return 1;
    }
    const text = `${JSON.stringify(document, null, 2)}\n`;
    if (!check) {
      writeFileSync(OPENAPI_FILE, text);
      console.warn(`openapi: wrote ${OPENAPI_FILE} (${Object.keys(document.paths).length} paths)`);
      return 0;
    }
    const committed = readFileOrEmpty(OPENAPI_FILE);
    if (committed !== text) {
      console.error('openapi: openapi.json is stale: run `npm run openapi` and commit the result.');
      return 1;
    }
    console.warn('openapi: openapi.json matches the code');
    return 0;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function readFileOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('openapi: could not build the document:', error);
    process.exit(1);
  },
);
