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

describe('the rooms of src/', () => {
  /** Which room each room's production code imports (a room: the first folder under src/). */
  function roomImports(): Map<string, Set<string>> {
    const arrows = new Map<string, Set<string>>();
    for (const file of sourceFiles('src').filter((f) => !f.endsWith('.spec.ts'))) {
      const parts = file.split('/');
      if (parts.length < 3) continue; // main.ts, app.module.ts … sit above every room
      const from = parts[1];
      for (const [, spec] of code(file).matchAll(/from\s+'(\.[^']+)'/g)) {
        const target = join(ROOT, file, '..', spec).slice(ROOT.length + 1).split(sep);
        const to = target[0] === 'src' && target.length > 2 ? target[1] : undefined;
        if (to && to !== from) arrows.set(from, (arrows.get(from) ?? new Set()).add(to));
      }
    }
    return arrows;
  }

  it('import each other without a cycle, so the arrows read top-down (docs/architecture.md)', () => {
    const arrows = roomImports();
    const cycles: string[] = [];
    const visit = (room: string, path: string[]) => {
      for (const next of arrows.get(room) ?? []) {
        if (path.includes(next)) cycles.push([...path.slice(path.indexOf(next)), next].join(' → '));
        else visit(next, [...path, next]);
      }
    };
    for (const room of arrows.keys()) visit(room, [room]);
    expect(arrows.get('metrics')).toEqual(new Set(['common']));
    expect([...new Set(cycles)]).toEqual([]);
  });

  it('has no @Global() module but configuration and the logger (a module lists what it uses)', () => {
    const globals = sourceFiles('src').filter((file) => /@Global\(\)/.test(code(file)));
    expect(globals).toEqual([]);
  });
});
