import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * The floor plan's rules that a compiler does not check (docs/architecture.md): rate limiting lives
 * in src/rate-limit, end to end. No app is booted; the sources are read.
 */
const ROOT = join(__dirname, '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path.split(sep).join('/')] : [];
  });
}

const inRateLimitRoom = (file: string) => file.startsWith('src/rate-limit/');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
/** The code without its comments, so a comment may name what the code must not build. */
const code = (file: string) =>
  read(file)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');

describe('the rate-limit room', () => {
  const files = [...sourceFiles('src'), ...sourceFiles('test')];

  it('finds the sources it checks', () => {
    expect(files).toContain('src/rate-limit/rate-limits.ts');
    expect(files).toContain('test/architecture.e2e-spec.ts');
  });

  it('is the only place that imports @nestjs/throttler internals (dist/…)', () => {
    const internal = /(from\s+|import\s+|require\(\s*|import\(\s*)['"]@nestjs\/throttler\/dist/;
    const offenders = files.filter((file) => !inRateLimitRoom(file) && internal.test(read(file)));
    expect(offenders).toEqual([]);
  });

  it('is the only place in src that builds a rate-limit key or one of our X-RateLimit-* header names', () => {
    // These read AbuseIPDB's own rate-limit headers on its responses; they build none of ours.
    const readsAProvidersHeaders = new Set([
      'src/ip/providers/abuseipdb-key-ring.ts',
      'src/ip/providers/abuseipdb.provider.ts',
    ]);
    const production = files.filter(
      (file) => file.startsWith('src/') && !file.endsWith('.spec.ts') && !inRateLimitRoom(file),
    );
    const offenders = production.filter((file) => {
      const source = code(file);
      const key = /['"`]rl:/.test(source);
      const header = /x-ratelimit/i.test(source) && !readsAProvidersHeaders.has(file);
      return key || header;
    });
    expect(offenders.map((file) => relative('.', file))).toEqual([]);
  });
});
