import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The service's name in log lines and metrics. */
export const SERVICE_NAME = 'argus';

/**
 * The running build's version: package.json's, read once at start (it sits two folders up from
 * both src/common and dist/common, and the container image copies it beside dist/).
 */
export const SERVICE_VERSION: string = readVersion();

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
