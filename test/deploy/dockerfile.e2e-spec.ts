import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ARGUS_BENCH_ENV } from '../../bench/support/processes';
import { MODEL_FILES } from '../../src/vision/model-files';
import { baseUrl, createTestApp, TestApp } from '../support/test-app';

/**
 * docker/Dockerfile and .dockerignore, read statically (no Docker engine here; CI's docker job
 * builds and smoke-tests the image).
 */

const ROOT = join(__dirname, '..', '..');

interface Instruction {
  keyword: string;
  args: string;
  stage: string;
}

function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = '';
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    instructions.push({ keyword: upper, args: args.trim(), stage });
  }
  return instructions;
}

const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
const instructions = parseDockerfile(dockerfile);
const inStage = (stage: string, keyword?: string) =>
  instructions.filter((i) => i.stage === stage && (!keyword || i.keyword === keyword));
const runtime = (keyword: string) => inStage('runtime', keyword);
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
};
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

describe('docker/Dockerfile', () => {
  it('is multi-stage: dependencies and build apart from a runtime stage that comes last', () => {
    const stages = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.stage);
    expect(stages).toEqual(expect.arrayContaining(['deps', 'build', 'prod-deps', 'runtime']));
    expect(stages[stages.length - 1]).toBe('runtime');
  });

  it('builds on a Node 22/24 Debian slim image that package.json engines accept', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(base).toMatch(/^node:(22|24)-bookworm-slim$/);
    const runtimeFrom = runtime('FROM')[0].args;
    expect(runtimeFrom).toMatch(/^\$\{NODE_IMAGE\}\s+AS runtime$/i);
    const engines = packageJson.engines.node;
    const minimumMajor = Number(/>=\s*(\d+)/.exec(engines)?.[1]);
    expect(Number(/^node:(\d+)/.exec(base)?.[1])).toBeGreaterThanOrEqual(minimumMajor);
  });

  it('installs with npm ci, builds, and installs production dependencies separately', () => {
    const runs = (stage: string) =>
      inStage(stage, 'RUN')
        .map((i) => i.args)
        .join('\n');
    expect(instructions.find((i) => i.stage === 'toolchain' && i.keyword === 'RUN')?.args).toMatch(
      /apt-get install .*python3 .*make .*g\+\+/,
    );
    expect(runs('deps')).toMatch(/\bnpm ci$/m);
    expect(runs('build')).toMatch(/\bnpm run build\b/);
    expect(runs('prod-deps')).toMatch(/\bnpm ci --omit=dev\b/);
  });

  it('runtime stage: dist + production node_modules only, non-root, production, health check, SIGTERM', () => {
    const copies = runtime('COPY').map((i) => i.args);
    expect(copies).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^--from=prod-deps \/app\/node_modules \.\/node_modules$/),
        expect.stringMatching(/^--from=build \/app\/dist \.\/dist$/),
      ]),
    );
    // From the build context only package.json: no sources, no secrets, no .env.
    expect(copies.filter((args) => !args.startsWith('--from='))).toEqual(['package.json ./']);
    expect(
      runtime('RUN')
        .map((i) => i.args)
        .join('\n'),
    ).not.toMatch(/apt-get|npm (ci|install)/);

    // The official node images' `node` user is uid 1000, which the Kubernetes manifests pin.
    expect(runtime('USER').map((i) => i.args)).toEqual(['node:node']);
    expect(
      runtime('ENV')
        .map((i) => i.args)
        .join(' '),
    ).toMatch(/\bNODE_ENV=production\b/);
    expect(runtime('EXPOSE').map((i) => i.args)).toEqual(['3000']);
    expect(runtime('STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
    // Exec form: node itself is PID 1 and receives SIGTERM (no shell in between).
    expect(JSON.parse(runtime('CMD')[0].args)).toEqual(['node', 'dist/main.js']);
    expect(runtime('HEALTHCHECK')[0].args).toMatch(
      /^--interval=\S+\s+--timeout=\S+\s+--start-period=\S+\s+--retries=\d+\s+CMD \[/,
    );
  });

  it('caps glibc malloc arenas at the value the benchmarks run with (docs/performance.md measures the image)', () => {
    const env = runtime('ENV')
      .map((i) => i.args)
      .join(' ');
    const imageValue = /\bMALLOC_ARENA_MAX=(\d+)\b/.exec(env)?.[1];
    expect(imageValue).toBe('2');
    expect(ARGUS_BENCH_ENV.MALLOC_ARENA_MAX).toBe(imageValue);
    expect(packageJson.scripts['bench:vision']).toMatch(
      new RegExp(`^MALLOC_ARENA_MAX=\\$\\{MALLOC_ARENA_MAX-${imageValue}\\} `),
    );
  });

  it('bakes in no secret: no ENV/ARG that names one, no .env or secret file copied', () => {
    const declared = instructions
      .filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')
      .flatMap((i) => i.args.split(/\s+/).map((pair) => pair.split('=')[0]));
    expect(declared.filter((name) => /SECRET|PASSWORD|TOKEN|API_KEY|DATABASE_URL|REDIS_URL|DSN/i.test(name))).toEqual(
      [],
    );
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      expect(source).not.toMatch(/\.env|secret/i);
      expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
    }
  });

  it('the build output it runs exists in the sources: dist/main.js and the CLI data source', () => {
    expect(existsSync(join(ROOT, 'src', 'main.ts'))).toBe(true);
    expect(existsSync(join(ROOT, 'src', 'database', 'data-source.ts'))).toBe(true);
    const nestCli = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as { sourceRoot: string };
    expect(nestCli.sourceRoot).toBe('src');
  });

  it('skips the CUDA download of onnxruntime-node in the stages that install, whatever the npm version', () => {
    const toolchainEnv = inStage('toolchain', 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(toolchainEnv).toMatch(/\bONNXRUNTIME_NODE_INSTALL=skip\b/);
    for (const stage of ['deps', 'prod-deps']) {
      const from = inStage(stage, 'FROM')[0].args;
      expect(from).toMatch(/^(toolchain|deps)\s+AS\s/i);
    }
  });

  it('runs the prune after the production install, and the prune keeps every model file src/vision loads', () => {
    const prodDeps = inStage('prod-deps', 'RUN').map((i) => i.args);
    const install = prodDeps.findIndex((args) => args.includes('npm ci --omit=dev'));
    const prune = prodDeps.findIndex((args) => args.includes('prune-node-modules.mjs node_modules'));
    expect({ install: install >= 0, pruneAfterIt: prune > install }).toEqual({ install: true, pruneAfterIt: true });
    // The script's list of files it must keep (it fails the build without them) holds the paths
    // model-files.ts resolves, relative to node_modules: a model moved in src/vision fails here first.
    const script = readFileSync(join(ROOT, 'docker', 'prune-node-modules.mjs'), 'utf8');
    const kept = /const keep = \[([\s\S]*?)\];/.exec(script)?.[1] ?? '';
    const nodeModules = join(ROOT, 'node_modules');
    const { centernet, paddleOcr, nsfwMobileNetV2, tfjsWasmDir } = MODEL_FILES;
    const loaded = [
      ...Object.values(centernet),
      ...Object.values(paddleOcr),
      ...Object.values(nsfwMobileNetV2),
      ...readdirSync(tfjsWasmDir)
        .filter((name) => name.endsWith('.wasm'))
        .map((name) => join(tfjsWasmDir, name)),
    ].map((file) => relative(nodeModules, file));
    expect(loaded.length).toBeGreaterThan(8);
    expect(loaded.filter((file) => !kept.includes(`'${file}'`))).toEqual([]);
  });

  describe('HEALTHCHECK command', () => {
    let app: TestApp;
    const healthcheck = JSON.parse(/CMD (\[.*\])$/.exec(runtime('HEALTHCHECK')[0].args)?.[1] ?? '[]') as string[];

    beforeAll(async () => {
      app = await createTestApp({}, { listen: true });
    });
    afterAll(() => app?.close());

    /** Runs the command as Docker would, asynchronously: the app answers from this same process. */
    function run(port: string): Promise<number | null> {
      const [command, ...args] = healthcheck;
      expect(command).toBe('node');
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, {
          env: { PATH: process.env.PATH, PORT: port },
          stdio: 'ignore',
          timeout: 10_000,
        });
        child.once('error', reject);
        child.once('exit', (code) => resolve(code));
      });
    }

    it('probes /health/live with node (the slim image has no curl)', () => {
      expect(healthcheck.join(' ')).toContain('/health/live');
    });

    it('exits 0 against a live app on $PORT', async () => {
      expect(await run(new URL(baseUrl(app)).port)).toBe(0);
    });

    it('exits 1 when nothing answers', async () => {
      expect(await run('1')).toBe(1);
    });
  });
});

describe('.dockerignore', () => {
  it('keeps dependencies, build output, data, env files, VCS and test artefacts out of the context', () => {
    for (const entry of ['node_modules', 'dist', 'data', '.env', '.env.*', '.git', 'coverage', 'docker/secrets']) {
      expect(dockerignore).toContain(entry);
    }
  });

  it('does not exclude anything the Dockerfile copies', () => {
    const sources = instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.startsWith('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const ignored = (path: string) =>
      dockerignore.some((pattern) => !pattern.startsWith('!') && (path === pattern || path.startsWith(`${pattern}/`)));
    expect(sources.filter(ignored)).toEqual([]);
  });
});
