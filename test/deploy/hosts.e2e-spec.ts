import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { buildConfig } from '../../src/config/configuration';

/**
 * The managed-host configurations of docs/deploy/: Render's Blueprint (render.yaml), Railway's
 * railway.json and the Cloud Run service (docs/deploy/cloudrun.yaml). No host CLI runs here, so
 * their wiring is asserted: the image and migration command are the Kubernetes Job's, health
 * checks hit the app's probes, every reference resolves, the environment they produce is one the
 * app accepts in production, and the connection-pool inequality of docs/operations.md holds.
 */

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The command of docker/k8s/migration-job.yaml, as one shell line. */
const jobManifest = parse(read('docker/k8s/migration-job.yaml')) as {
  spec: { template: { spec: { containers: { command: string[] }[] } } };
};
const MIGRATION_COMMAND = jobManifest.spec.template.spec.containers[0].command.join(' ');

const MAX_CONNECTIONS = 100;
const CONNECTION_HEADROOM = 10;
const PLACEHOLDERS: Record<string, string> = {
  DATABASE_URL: 'postgres://argus:secret@db.internal:5432/argus',
  REDIS_URL: 'redis://redis.internal:6379',
  JWT_SECRET: 'generated-by-the-host-0123456789abcdef0123456789',
  METRICS_TOKEN: 'generated-metrics-token',
  S3_BUCKET: 'argus-images',
  S3_REGION: 'auto',
  S3_ENDPOINT: 'https://storage.example.com',
};

interface RenderEnvVar {
  key: string;
  value?: string;
  generateValue?: boolean;
  sync?: boolean;
  fromDatabase?: { name: string; property: string };
  fromService?: { type: string; name: string; property?: string; envVarKey?: string };
}

interface RenderService {
  type: string;
  name: string;
  runtime?: string;
  dockerfilePath?: string;
  dockerContext?: string;
  healthCheckPath?: string;
  preDeployCommand?: string;
  scaling?: { minInstances: number; maxInstances: number };
  numInstances?: number;
  region?: string;
  envVars?: RenderEnvVar[];
  ipAllowList?: unknown[];
  maxmemoryPolicy?: string;
}

describe('render.yaml (Render Blueprint)', () => {
  const blueprint = parse(read('render.yaml')) as {
    services: RenderService[];
    databases: { name: string; region?: string; ipAllowList?: unknown[] }[];
  };
  const web = blueprint.services.find((service) => service.type === 'web')!;
  const worker = blueprint.services.find((service) => service.type === 'worker')!;
  const keyValue = blueprint.services.find((service) => service.type === 'keyvalue')!;
  const env = (service: RenderService) =>
    Object.fromEntries((service.envVars ?? []).map((variable) => [variable.key, variable]));

  it('builds the api and the worker from docker/Dockerfile and migrates with the Job’s command before a deploy', () => {
    for (const service of [web, worker]) {
      expect(service.runtime).toBe('docker');
      expect(existsSync(join(ROOT, service.dockerContext ?? '.', service.dockerfilePath ?? ''))).toBe(true);
    }
    expect(web.preDeployCommand).toBe(MIGRATION_COMMAND);
    expect(web.healthCheckPath).toBe('/health/ready');
    expect(env(web).ARGUS_ROLE.value).toBe('api');
    expect(env(worker).ARGUS_ROLE.value).toBe('worker');
    for (const service of [web, worker]) expect(env(service).DB_MIGRATIONS.value).toBe('off');
  });

  it('wires managed PostgreSQL and Key Value by reference, private, in one region', () => {
    const names = new Set([...blueprint.services.map((s) => s.name), ...blueprint.databases.map((d) => d.name)]);
    for (const service of [web, worker]) {
      expect(env(service).DATABASE_URL.fromDatabase).toEqual({ name: 'argus-db', property: 'connectionString' });
      expect(env(service).REDIS_URL.fromService).toEqual({
        type: 'keyvalue',
        name: keyValue.name,
        property: 'connectionString',
      });
      for (const variable of service.envVars ?? []) {
        const target = variable.fromDatabase?.name ?? variable.fromService?.name;
        if (target) expect(names).toContain(target);
      }
    }
    expect(keyValue.ipAllowList).toEqual([]);
    expect(keyValue.maxmemoryPolicy).toBe('noeviction'); // BullMQ needs it
    expect(blueprint.databases[0].ipAllowList).toEqual([]);
    const regions = new Set([...blueprint.services, ...blueprint.databases].map((r) => r.region));
    expect(regions.size).toBe(1);
  });

  it('generates the secrets or asks for them; never a literal secret in the file', () => {
    for (const service of [web, worker]) {
      for (const variable of service.envVars ?? []) {
        if (/SECRET|TOKEN|API_KEY|PASSWORD/.test(variable.key)) {
          expect({ key: variable.key, value: variable.value }).toEqual({ key: variable.key, value: undefined });
        }
      }
    }
    expect(env(web).JWT_SECRET.generateValue).toBe(true);
    expect(env(worker).JWT_SECRET.fromService).toMatchObject({ name: web.name, envVarKey: 'JWT_SECRET' });
  });

  it.each([
    ['api', 'web'],
    ['worker', 'worker'],
  ])('the %s environment is accepted by the app in production', (_role, type) => {
    const service = blueprint.services.find((s) => s.type === type)!;
    const values = Object.fromEntries(
      (service.envVars ?? []).map((v) => [v.key, v.value ?? PLACEHOLDERS[v.key] ?? 'filled-in']),
    );
    // Optional provider keys asked for at sync time may stay empty.
    for (const key of ['OPENAI_API_KEY', 'ABUSEIPDB_API_KEY', 'ALLOWED_ORIGINS']) if (key in values) values[key] = '';
    const config = buildConfig(values);
    expect(config.app.isProduction).toBe(true);
    expect(config.database.url).toMatch(/^postgres:/);
    expect(config.storage.driver).toBe('s3');
  });

  it('pool sizing: (api maxInstances + worker instances) × DATABASE_POOL_MAX ≤ max_connections − headroom', () => {
    const pods = (web.scaling?.maxInstances ?? web.numInstances ?? 1) + (worker.numInstances ?? 1);
    const pool = Math.max(Number(env(web).DATABASE_POOL_MAX.value), Number(env(worker).DATABASE_POOL_MAX.value));
    expect(pods * pool).toBeLessThanOrEqual(MAX_CONNECTIONS - CONNECTION_HEADROOM);
  });
});

describe('railway.json', () => {
  const railway = JSON.parse(read('railway.json')) as {
    build: { builder: string; dockerfilePath: string };
    deploy: { preDeployCommand: string[]; healthcheckPath: string; drainingSeconds: number };
  };

  it('builds docker/Dockerfile, migrates with the Job’s command, health-checks readiness and drains', () => {
    expect(railway.build.builder).toBe('DOCKERFILE');
    expect(existsSync(join(ROOT, railway.build.dockerfilePath))).toBe(true);
    expect(railway.deploy.preDeployCommand).toEqual([MIGRATION_COMMAND]);
    expect(railway.deploy.healthcheckPath).toBe('/health/ready');
    // Longer than the app's default SHUTDOWN_GRACE_MS (10 s).
    expect(railway.deploy.drainingSeconds).toBeGreaterThan(10);
  });
});

describe('docs/deploy/cloudrun.yaml (Cloud Run service)', () => {
  interface Container {
    image: string;
    ports: { containerPort: number }[];
    env: { name: string; value: string }[];
    volumeMounts: { name: string; mountPath: string }[];
    startupProbe: { httpGet: { path: string; port: number } };
    livenessProbe: { httpGet: { path: string; port: number } };
  }
  const service = parse(read('docs/deploy/cloudrun.yaml')) as {
    apiVersion: string;
    kind: string;
    spec: {
      template: {
        metadata: { annotations: Record<string, string> };
        spec: {
          timeoutSeconds: number;
          containers: Container[];
          volumes: { name: string; secret: { secretName: string; items: { key: string; path: string }[] } }[];
        };
      };
    };
  };
  const template = service.spec.template;
  const [container] = template.spec.containers;
  const env = Object.fromEntries(container.env.map((variable) => [variable.name, variable.value]));
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'argus-cloudrun-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is a Knative Service with one container on the port the app listens on, probed on /health/live', () => {
    expect(service.apiVersion).toBe('serving.knative.dev/v1');
    expect(service.kind).toBe('Service');
    expect(template.spec.containers).toHaveLength(1);
    expect(container.ports[0].containerPort).toBe(Number(env.PORT));
    expect(container.startupProbe.httpGet).toEqual({ path: '/health/live', port: Number(env.PORT) });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: Number(env.PORT) });
  });

  it('mounts every secret it names: each <NAME>_FILE is a mounted Secret Manager volume', () => {
    const files = container.env.filter((variable) => variable.name.endsWith('_FILE'));
    expect(files.length).toBeGreaterThan(0);
    for (const { name, value } of files) {
      const mount = container.volumeMounts.find((m) => value === `${m.mountPath}/value`);
      expect({ name, mounted: Boolean(mount) }).toEqual({ name, mounted: true });
      const volume = template.spec.volumes.find((v) => v.name === mount!.name);
      expect(volume?.secret.items).toEqual([{ key: 'latest', path: 'value' }]);
    }
    expect(template.spec.volumes.map((v) => v.name).sort()).toEqual(container.volumeMounts.map((m) => m.name).sort());
    for (const name of Object.keys(env)) {
      if (/SECRET|TOKEN|PASSWORD|API_KEY|DATABASE_URL$|REDIS_URL$/.test(name)) expect(name).toMatch(/_FILE$/);
    }
  });

  it('the environment, with its secret files filled in, is accepted by the app in production', () => {
    const values: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      if (!name.endsWith('_FILE')) {
        values[name] = value;
        continue;
      }
      const variable = name.slice(0, -'_FILE'.length);
      const file = join(dir, variable);
      writeFileSync(file, PLACEHOLDERS[variable] ?? 'filled-in');
      values[name] = file;
    }
    const config = buildConfig(values);
    expect(config.app.isProduction).toBe(true);
    expect(config.app.trustProxy).toBe(1);
    expect(config.storage.driver).toBe('s3');
    // Cloud Run waits 10 s after SIGTERM.
    expect(config.app.shutdownGraceMs).toBeLessThan(10_000);
  });

  it('keeps CPU between requests, bounds the instances by the pool inequality, and outlasts REQUEST_TIMEOUT_S', () => {
    const annotations = template.metadata.annotations;
    expect(annotations['run.googleapis.com/cpu-throttling']).toBe('false');
    expect(Number(annotations['autoscaling.knative.dev/minScale'])).toBeGreaterThanOrEqual(1);
    const maxScale = Number(annotations['autoscaling.knative.dev/maxScale']);
    expect(maxScale * Number(env.DATABASE_POOL_MAX)).toBeLessThanOrEqual(MAX_CONNECTIONS - CONNECTION_HEADROOM);
    expect(template.spec.timeoutSeconds).toBeGreaterThan(Number(env.REQUEST_TIMEOUT_S ?? 120));
    expect(env.DB_MIGRATIONS).toBe('off');
  });
});

describe('docs/deploy guides', () => {
  it('every guide the index links exists, and the index says why AWS Lambda does not suit long jobs', () => {
    const index = read('docs/deploy/README.md');
    const links = [...index.matchAll(/\]\(([a-z-]+\.md)\)/g)].map(([, file]) => file);
    expect(links.sort()).toEqual(['cloudrun.md', 'railway.md', 'render.md']);
    for (const link of links) expect(existsSync(join(ROOT, 'docs', 'deploy', link))).toBe(true);
    expect(index).toMatch(/## Why not AWS Lambda/);
    expect(index).toMatch(/15 minutes/);
  });
});
