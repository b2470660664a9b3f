import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import * as ts from 'typescript';
import { parseAllDocuments } from 'yaml';
import { buildConfig } from '../../src/config/configuration';

/**
 * Every manifest under docker/k8s is validated twice against the Kubernetes API schema shipped by
 * `kubernetes-models` (generated from the official OpenAPI document): its per-kind validators
 * check types, required fields and formats, and type-checking the manifest against the same
 * package's TypeScript interfaces rejects unknown fields (a typo such as `readinessProb` would
 * otherwise be silently dropped by the API server) — kubeconform's `-strict`, offline.
 * The ServiceMonitor is a Prometheus Operator CRD with no model there: its shape is checked by hand.
 * Then the deployment policy of issue 6 is asserted, and the kustomizations (docker/k8s is the base,
 * docker/k8s-overlays/{staging,production} the overlays) are rendered with `kubectl kustomize` when
 * kubectl is on PATH, every rendered object validated again, and the connection-pool inequality of
 * docs/operations.md checked on each rendering.
 */

const ROOT = join(__dirname, '..', '..');
const K8S_DIR = join(ROOT, 'docker', 'k8s');
const OVERLAYS_DIR = join(ROOT, 'docker', 'k8s-overlays');
const OVERLAYS = ['staging', 'production'] as const;

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

type Validatable = new (data: never) => { validate(): void };

/** apiVersion/kind → runtime validator and TypeScript interface (module, type name). */
const KINDS: Record<string, { model: Validatable; module: string; type: string }> = {
  'v1/ConfigMap': { model: ConfigMap, module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { model: Secret, module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'v1/Service': { model: Service, module: 'kubernetes-models/v1/Service', type: 'IService' },
  'apps/v1/Deployment': { model: Deployment, module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment' },
  'batch/v1/Job': { model: Job, module: 'kubernetes-models/batch/v1/Job', type: 'IJob' },
  'autoscaling/v2/HorizontalPodAutoscaler': {
    model: HorizontalPodAutoscaler,
    module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler',
    type: 'IHorizontalPodAutoscaler',
  },
  'policy/v1/PodDisruptionBudget': {
    model: PodDisruptionBudget,
    module: 'kubernetes-models/policy/v1/PodDisruptionBudget',
    type: 'IPodDisruptionBudget',
  },
  'networking.k8s.io/v1/NetworkPolicy': {
    model: NetworkPolicy,
    module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
    type: 'INetworkPolicy',
  },
  'networking.k8s.io/v1/Ingress': {
    model: Ingress,
    module: 'kubernetes-models/networking.k8s.io/v1/Ingress',
    type: 'IIngress',
  },
};

/** Custom resources: validated by `customResourceProblems`, not by kubernetes-models. */
const SERVICE_MONITOR = 'monitoring.coreos.com/v1/ServiceMonitor';

const KUSTOMIZATION = 'kustomization.yaml';
const manifestFiles = readdirSync(K8S_DIR).filter((file) => /\.ya?ml$/.test(file) && file !== KUSTOMIZATION);

function parseManifests(text: string, file: string, version: '1.1' | '1.2' = '1.2'): Manifest[] {
  return parseAllDocuments(text, { version }).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return { ...(doc.toJS() as Manifest), file };
  });
}

function loadManifests(version: '1.1' | '1.2' = '1.2'): Manifest[] {
  return manifestFiles.flatMap((file) => parseManifests(readFileSync(join(K8S_DIR, file), 'utf8'), file, version));
}

const manifests = loadManifests();

function one(kind: string, name?: string, items: Manifest[] = manifests): Manifest {
  const found = items.filter((manifest) => manifest.kind === kind && (!name || manifest.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''} in docker/k8s, found ${found.length}`);
  return found[0];
}

/** The api Deployment (named argus; a worker Deployment may sit beside it). */
function apiDeployment(items: Manifest[] = manifests): Manifest {
  return one('Deployment', 'argus', items);
}

function kindKey(manifest: Manifest): string {
  return `${manifest.apiVersion}/${manifest.kind}`;
}

function strip(manifest: Manifest): Record<string, unknown> {
  const { file: _file, ...object } = manifest;
  return object;
}

/** Type-checks every manifest against kubernetes-models' interfaces; returns "file: message" lines. */
function typeCheck(items: Manifest[]): string[] {
  const packageDir = dirname(require.resolve('kubernetes-models/package.json'));
  const virtualFile = join(__dirname, '__k8s_manifests__.ts');
  const lines = items.map((manifest, index) => {
    const { module, type } = KINDS[kindKey(manifest)];
    return `import type { ${type} as T${index} } from '${module}'; export const m${index}: T${index} = ${JSON.stringify(strip(manifest))};`;
  });
  const text = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    baseUrl: __dirname,
    paths: { 'kubernetes-models/*': [join(packageDir, '*')] },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (file, language, ...rest) =>
    file === virtualFile
      ? ts.createSourceFile(file, text, language)
      : getSourceFile.call(host, file, language, ...rest);
  host.fileExists = (file) => file === virtualFile || fileExists.call(host, file);
  host.readFile = (file) => (file === virtualFile ? text : readFile.call(host, file));
  const program = ts.createProgram([virtualFile], options, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    if (diagnostic.file?.fileName !== virtualFile || diagnostic.start === undefined) return message;
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${items[line].file} (${items[line].kind}): ${message}`;
  });
}

function podSpec(manifest: Manifest): IPodSpec {
  return (manifest as unknown as { spec: { template: { spec: IPodSpec } } }).spec.template.spec;
}

function onlyContainer(manifest: Manifest): IContainer {
  const { containers } = podSpec(manifest);
  expect(containers).toHaveLength(1);
  return containers[0];
}

describe('Kubernetes manifests (docker/k8s)', () => {
  it('contains the issue 6 and issue 17 kinds (ingress, network policy, service monitor)', () => {
    const kinds = new Set(manifests.map((m) => m.kind));
    for (const kind of [
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'Job',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'NetworkPolicy',
      'Ingress',
      'ServiceMonitor',
    ]) {
      expect(kinds).toContain(kind);
    }
    expect(one('Secret').file).toBe('secret.example.yaml');
    for (const kind of ['ConfigMap', 'Job', 'NetworkPolicy', 'Ingress', 'ServiceMonitor'])
      expect(() => one(kind)).not.toThrow();
  });

  it('reads the same under YAML 1.1 (kubectl) and 1.2: no `on`/`yes`/`0440`-style scalar changes meaning', () => {
    expect(loadManifests('1.1')).toEqual(manifests);
  });

  it('validates every manifest against the Kubernetes API schema (kubernetes-models)', () => {
    const problems = manifests.flatMap((manifest) => {
      if (kindKey(manifest) === SERVICE_MONITOR) return customResourceProblems(manifest);
      const entry = KINDS[kindKey(manifest)];
      if (!entry) return [`${manifest.file}: no validator for ${manifest.apiVersion} ${manifest.kind}`];
      try {
        new entry.model(strip(manifest) as never).validate();
        return [];
      } catch (error) {
        return [`${manifest.file} (${manifest.kind}): ${(error as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
  });

  it('has no field the Kubernetes API does not define (strict check through the typed models)', () => {
    expect(typeCheck(manifests.filter((manifest) => KINDS[kindKey(manifest)]))).toEqual([]);
  });

  it('the strict check catches a misspelt field and a wrong type', () => {
    const deployment = apiDeployment();
    const broken = JSON.parse(JSON.stringify(deployment)) as Manifest;
    const container = onlyContainer(broken) as unknown as Record<string, unknown>;
    container.readinessProb = container.readinessProbe;
    (broken as unknown as { spec: { replicas: unknown } }).spec.replicas = 'two';
    const problems = typeCheck([broken]);
    expect(problems.join('\n')).toMatch(/readinessProb/);
    expect(problems.join('\n')).toMatch(/replicas|string/);
  });

  it('is namespace-agnostic and labelled app.kubernetes.io/name=argus', () => {
    for (const manifest of manifests) {
      expect({ file: manifest.file, namespace: manifest.metadata.namespace }).toEqual({ file: manifest.file });
      expect({ file: manifest.file, name: manifest.metadata.labels?.['app.kubernetes.io/name'] }).toEqual({
        file: manifest.file,
        name: 'argus',
      });
    }
  });

  describe('Deployment', () => {
    const deployment = apiDeployment() as Manifest & {
      spec: {
        replicas: number;
        selector: { matchLabels: Record<string, string> };
        strategy: { type: string; rollingUpdate: { maxUnavailable: number } };
        template: { metadata: { labels: Record<string, string> } };
      };
    };
    const pod = podSpec(deployment);
    const container = onlyContainer(deployment);
    const configMap = one('ConfigMap') as Manifest & { data: Record<string, string> };

    it('runs 2 replicas and rolls without ever dropping below them', () => {
      expect(deployment.spec.replicas).toBe(2);
      expect(deployment.spec.strategy.type).toBe('RollingUpdate');
      expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
      expect(deployment.spec.template.metadata.labels).toMatchObject(deployment.spec.selector.matchLabels);
    });

    it('probes: liveness /health/live, readiness /health/ready, a startup probe, on the http port', () => {
      const portNames = (container.ports ?? []).map((port) => port.name);
      expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
      expect(container.startupProbe?.httpGet?.path).toBe('/health/live');
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) {
        expect(portNames).toContain(probe?.httpGet?.port);
      }
      expect(container.ports).toEqual([
        expect.objectContaining({ name: 'http', containerPort: Number(configMap.data.PORT) }),
      ]);
    });

    it('gives SIGTERM handling time: grace period > preStop sleep + SHUTDOWN_GRACE_MS', () => {
      const graceMs = Number(configMap.data.SHUTDOWN_GRACE_MS);
      const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
      expect(preStop[0]).toBe('sleep');
      const sleepSeconds = Number(preStop[1]);
      expect(sleepSeconds).toBeGreaterThan(0);
      expect(graceMs).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(sleepSeconds + graceMs / 1000);
    });

    it('sets requests and limits (the HPA needs the CPU request)', () => {
      expect(container.resources?.requests).toEqual({ cpu: expect.anything(), memory: expect.anything() });
      expect(container.resources?.limits).toEqual({ cpu: expect.anything(), memory: expect.anything() });
    });

    it('runs as uid 1000, non-root, read-only root filesystem, no privilege escalation, no capabilities', () => {
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 1000,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
    });

    it('writes only to emptyDir volumes at /tmp and DATA_DIR', () => {
      const emptyDirs = new Set((pod.volumes ?? []).filter((volume) => volume.emptyDir).map((volume) => volume.name));
      const writable = (container.volumeMounts ?? []).filter((mount) => !mount.readOnly);
      expect(writable.map((mount) => mount.mountPath).sort()).toEqual(['/tmp', configMap.data.DATA_DIR].sort());
      for (const mount of writable) expect(emptyDirs).toContain(mount.name);
    });

    it('takes its configuration from the ConfigMap and every secret as a <NAME>_FILE from the Secret', () => {
      const secret = one('Secret') as Manifest & { stringData: Record<string, string> };
      expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
      const secretVolume = (pod.volumes ?? []).find((volume) => volume.secret);
      expect(secretVolume?.secret?.secretName).toBe(secret.metadata.name);
      const mount = (container.volumeMounts ?? []).find((m) => m.name === secretVolume?.name);
      expect(mount?.readOnly).toBe(true);

      const env = container.env ?? [];
      expect(env.length).toBeGreaterThan(0);
      for (const variable of env) {
        expect(variable.name).toMatch(/_FILE$/);
        expect(variable.valueFrom).toBeUndefined();
        const key = variable.value?.slice(`${mount?.mountPath}/`.length) ?? '';
        expect({ variable: variable.name, path: variable.value }).toEqual({
          variable: variable.name,
          path: `${mount?.mountPath}/${key}`,
        });
        expect(Object.keys(secret.stringData)).toContain(key);
      }
      // Nothing secret in the ConfigMap.
      for (const name of Object.keys(configMap.data)) {
        expect(name).not.toMatch(/SECRET|PASSWORD|TOKEN|_API_KEY$|DATABASE_URL|REDIS_URL|SENTRY_DSN/);
      }
    });

    it('is selected by the Service, the PodDisruptionBudget (minAvailable 1) and scaled by the HPA', () => {
      const labels = deployment.spec.template.metadata.labels;
      const service = one('Service', 'argus') as Manifest & {
        spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
      };
      expect(labels).toMatchObject(service.spec.selector);
      expect(service.spec.ports.map((port) => port.targetPort)).toEqual(['http']);

      const pdb = one('PodDisruptionBudget') as Manifest & {
        spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
      };
      expect(pdb.spec.minAvailable).toBe(1);
      expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);

      const hpa = one('HorizontalPodAutoscaler', 'argus') as Manifest & {
        spec: {
          scaleTargetRef: { apiVersion: string; kind: string; name: string };
          minReplicas: number;
          maxReplicas: number;
          metrics: { type: string; resource: { name: string; target: { type: string } } }[];
        };
      };
      expect(hpa.apiVersion).toBe('autoscaling/v2');
      expect(hpa.spec.scaleTargetRef).toEqual({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: deployment.metadata.name,
      });
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(deployment.spec.replicas);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      expect(hpa.spec.metrics).toContainEqual(
        expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }),
      );
    });

    it('the migration Job runs the image’s migration command with the same image, config and security', () => {
      const job = one('Job');
      const jobPod = podSpec(job);
      const migrate = onlyContainer(job);
      expect(migrate.image).toBe(container.image);
      expect(migrate.command).toEqual([
        'node',
        'node_modules/typeorm/cli.js',
        'migration:run',
        '-d',
        'dist/database/data-source.js',
      ]);
      // dist/database/data-source.js is compiled from this file.
      expect(() => readFileSync(join(__dirname, '..', '..', 'src', 'database', 'data-source.ts'))).not.toThrow();
      expect(jobPod.restartPolicy).toBe('Never');
      expect(migrate.envFrom).toEqual(container.envFrom);
      expect(migrate.env).toEqual(container.env);
      expect(jobPod.securityContext).toEqual(pod.securityContext);
      expect(migrate.securityContext).toEqual(container.securityContext);
      expect(migrate.resources?.limits?.memory).toBeDefined();
      expect(job.metadata.labels?.['app.kubernetes.io/component']).not.toBe(
        deployment.spec.selector.matchLabels['app.kubernetes.io/component'],
      );
    });
  });

  describe('the configuration they produce is accepted by the app', () => {
    const deployment = apiDeployment();
    const container = onlyContainer(deployment);
    const configMap = one('ConfigMap') as Manifest & { data: Record<string, string> };
    const secret = one('Secret') as Manifest & { stringData: Record<string, string> };
    let dir: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'argus-k8s-env-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The pod's environment, with the Secret's keys as files in a temp dir. */
    function podEnv(values: Record<string, string>): Record<string, string> {
      for (const [key, value] of Object.entries(values)) writeFileSync(join(dir, key), value);
      const files = Object.fromEntries(
        (container.env ?? []).map((variable) => [
          variable.name,
          join(dir, (variable.value ?? '').split('/').pop() ?? ''),
        ]),
      );
      return { ...configMap.data, ...files };
    }

    it('refuses the example Secret as it stands (placeholders are not usable secrets)', () => {
      expect(() => buildConfig(podEnv(secret.stringData))).toThrow(/JWT_SECRET/);
    });

    it('accepts it once the placeholders are filled in', () => {
      const filled = Object.fromEntries(
        Object.entries(secret.stringData).map(([key, value]) => [
          key,
          key === 'jwt-secret'
            ? 'k8s-manifest-test-secret-0123456789abcdef'
            : value.replaceAll('REPLACE_ME', 'filled-in'),
        ]),
      );
      const config = buildConfig(podEnv(filled));
      expect(config.app.isProduction).toBe(true);
      expect(config.app.port).toBe(3000);
      expect(config.app.trustProxy).toBe(1);
      expect(config.app.shutdownGraceMs).toBe(Number(configMap.data.SHUTDOWN_GRACE_MS));
      expect(config.database.url).toMatch(/^postgres:/);
      expect(config.redis.url).toMatch(/^redis:/);
      expect(config.app.metricsToken).toBe('filled-in');
      // Replicas do not share a disk: images must not go to the pod's emptyDir.
      expect(config.storage.driver).toBe('s3');
      // Empty optional secrets mean "not set".
      expect(config.ai.provider).toBe('local');
      expect(config.sentry.dsn).toBeUndefined();
    });
  });
});

/* ------------------------------------------------------------------------------------------------ */
/* Issue 17: ServiceMonitor, NetworkPolicy, Ingress, kustomize, pool sizing                          */
/* ------------------------------------------------------------------------------------------------ */

/** A shape: a type name, a pattern a string must match, `[shape]` for a list, or an object of shapes. */
type Shape = 'string' | 'number' | 'boolean' | 'labels' | RegExp | [Shape] | { [key: string]: Shape };

const DURATION = /^(\d+(ms|s|m|h))+$/;

/** The fields of monitoring.coreos.com/v1 ServiceMonitor this repository uses or may use (subset of the CRD). */
const SERVICE_MONITOR_SHAPE: Shape = {
  apiVersion: /^monitoring\.coreos\.com\/v1$/,
  kind: /^ServiceMonitor$/,
  metadata: { name: 'string', namespace: 'string', labels: 'labels', annotations: 'labels' },
  spec: {
    jobLabel: 'string',
    targetLabels: ['string'],
    podTargetLabels: ['string'],
    selector: { matchLabels: 'labels' },
    namespaceSelector: { any: 'boolean', matchNames: ['string'] },
    endpoints: [
      {
        port: 'string',
        path: /^\//,
        scheme: /^https?$/,
        interval: DURATION,
        scrapeTimeout: DURATION,
        honorLabels: 'boolean',
        authorization: { type: /^Bearer$/, credentials: { name: 'string', key: 'string', optional: 'boolean' } },
      },
    ],
  },
};

function shapeProblems(value: unknown, shape: Shape, path: string): string[] {
  if (shape === 'labels') {
    const ok =
      !!value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.values(value).every((v) => typeof v === 'string');
    return ok ? [] : [`${path}: expected a map of strings`];
  }
  if (typeof shape === 'string') return typeof value === shape ? [] : [`${path}: expected a ${shape}`];
  if (shape instanceof RegExp) {
    return typeof value === 'string' && shape.test(value)
      ? []
      : [`${path}: ${JSON.stringify(value)} does not match ${shape}`];
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((item, index) => shapeProblems(item, shape[0], `${path}[${index}]`));
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object`];
  return Object.entries(value).flatMap(([key, item]) =>
    key in shape ? shapeProblems(item, shape[key], `${path}.${key}`) : [`${path}.${key}: unknown field`],
  );
}

/** The ServiceMonitor's shape (no unknown field, right types) and the fields the operator requires. */
function customResourceProblems(manifest: Manifest): string[] {
  const object = strip(manifest) as { spec?: { selector?: unknown; endpoints?: { port?: string }[] } };
  const problems = shapeProblems(object, SERVICE_MONITOR_SHAPE, manifest.file);
  if (!object.spec?.selector) problems.push(`${manifest.file}: spec.selector is required`);
  if (!object.spec?.endpoints?.length) problems.push(`${manifest.file}: spec.endpoints must not be empty`);
  for (const endpoint of object.spec?.endpoints ?? []) {
    if (!endpoint.port) problems.push(`${manifest.file}: every endpoint names a Service port`);
  }
  return problems;
}

/** Everything the api Service and its Secret say, for the ServiceMonitor and Ingress checks. */
interface ServiceManifest extends Manifest {
  spec: { selector: Record<string, string>; ports: { name: string; port: number }[] };
}

describe('ServiceMonitor (Prometheus Operator CRD, checked by hand)', () => {
  const monitor = one('ServiceMonitor') as Manifest & {
    spec: {
      jobLabel: string;
      selector: { matchLabels: Record<string, string> };
      endpoints: {
        port: string;
        path: string;
        authorization: { type: string; credentials: { name: string; key: string } };
      }[];
    };
  };
  const service = one('Service', 'argus') as ServiceManifest;
  const secret = one('Secret') as Manifest & { stringData: Record<string, string> };
  const container = onlyContainer(apiDeployment());

  it('has the CRD shape: no unknown field, a selector and endpoints', () => {
    expect(customResourceProblems(monitor)).toEqual([]);
  });

  it('the hand check catches a misspelt field and a wrong type', () => {
    const broken = JSON.parse(JSON.stringify(monitor)) as typeof monitor & { spec: Record<string, unknown> };
    broken.spec.endpoint = broken.spec.endpoints;
    (broken.spec.endpoints[0] as unknown as Record<string, unknown>).interval = 15;
    const problems = customResourceProblems(broken).join('\n');
    expect(problems).toMatch(/spec\.endpoint: unknown field/);
    expect(problems).toMatch(/endpoints\[0\]\.interval/);
  });

  it('selects the api Service, on its http port, as job "argus" (what alerts.yml selects)', () => {
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(service.metadata.labels?.[monitor.spec.jobLabel]).toBe('argus');
    for (const endpoint of monitor.spec.endpoints) {
      expect(service.spec.ports.map((port) => port.name)).toContain(endpoint.port);
      expect(endpoint.path).toBe('/metrics');
    }
  });

  it('sends METRICS_TOKEN as a bearer token from the same Secret key the pods read it from', () => {
    const metricsTokenFile = (container.env ?? []).find((variable) => variable.name === 'METRICS_TOKEN_FILE')?.value;
    for (const { authorization } of monitor.spec.endpoints) {
      expect(authorization.type).toBe('Bearer');
      expect(authorization.credentials.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.stringData)).toContain(authorization.credentials.key);
      expect(metricsTokenFile?.endsWith(`/${authorization.credentials.key}`)).toBe(true);
    }
  });
});

describe('NetworkPolicy', () => {
  type Peer = {
    namespaceSelector?: { matchLabels?: Record<string, string> };
    podSelector?: { matchLabels?: Record<string, string> };
    ipBlock?: { cidr: string; except?: string[] };
  };
  type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port: number | string; protocol: string }[] };
  const policy = one('NetworkPolicy') as Manifest & {
    spec: {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: Rule[];
      egress: Rule[];
    };
  };
  const portsOf = (rule: Rule) => (rule.ports ?? []).map(({ port, protocol }) => `${port}/${protocol}`).sort();

  it('applies to every Argus pod (api, worker, migration Job) in both directions', () => {
    expect(policy.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'argus' });
    expect(policy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    for (const workload of manifests.filter((m) => m.kind === 'Deployment' || m.kind === 'Job')) {
      expect(podTemplateLabels(workload)).toMatchObject(policy.spec.podSelector.matchLabels);
    }
  });

  it('lets in only the ingress controller and Prometheus, on the http port', () => {
    expect(policy.spec.ingress).toHaveLength(2);
    for (const rule of policy.spec.ingress) {
      expect(portsOf(rule)).toEqual(['http/TCP']);
      expect(rule.from?.length).toBe(1);
      expect(rule.from?.[0].namespaceSelector?.matchLabels).toBeDefined();
      expect(rule.from?.[0].ipBlock).toBeUndefined();
    }
    const [controller, prometheus] = policy.spec.ingress.map((rule) => rule.from![0]);
    expect(controller.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'ingress-nginx' });
    expect(prometheus.podSelector?.matchLabels).toEqual({ 'app.kubernetes.io/name': 'prometheus' });
  });

  it('lets out only DNS, PostgreSQL, Redis and HTTPS to public addresses', () => {
    // Every rule names its ports: no rule allows everything.
    for (const rule of policy.spec.egress) expect(rule.ports?.length).toBeGreaterThan(0);
    expect(policy.spec.egress.map(portsOf)).toEqual([['53/TCP', '53/UDP'], ['5432/TCP'], ['6379/TCP'], ['443/TCP']]);
    const [dns, , , https] = policy.spec.egress;
    expect(dns.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ]);
    expect(https.to).toHaveLength(1);
    expect(https.to?.[0].ipBlock?.cidr).toBe('0.0.0.0/0');
    // Private ranges and the cloud metadata service are not "the providers".
    expect(https.to?.[0].ipBlock?.except).toEqual(
      expect.arrayContaining(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']),
    );
  });
});

describe('Ingress', () => {
  const ingress = one('Ingress') as Manifest & {
    metadata: { annotations: Record<string, string> };
    spec: {
      ingressClassName: string;
      tls: { hosts: string[]; secretName: string }[];
      rules: {
        host: string;
        http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] };
      }[];
    };
  };
  const service = one('Service', 'argus') as ServiceManifest;
  const configMap = one('ConfigMap') as Manifest & { data: Record<string, string> };

  it('terminates TLS with a cert-manager certificate for every host it routes', () => {
    expect(ingress.metadata.annotations['cert-manager.io/cluster-issuer']).toBeTruthy();
    expect(ingress.spec.tls).toHaveLength(1);
    expect(ingress.spec.tls[0].secretName).toBeTruthy();
    expect(ingress.spec.rules.map((rule) => rule.host).sort()).toEqual([...ingress.spec.tls[0].hosts].sort());
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/ssl-redirect']).toBe('true');
  });

  it('routes to the api Service by port name, and lets uploads up to MAX_FILE_SIZE_MB reach the api unbuffered', () => {
    for (const rule of ingress.spec.rules) {
      for (const { backend } of rule.http.paths) {
        expect(backend.service.name).toBe(service.metadata.name);
        expect(service.spec.ports.map((port) => port.name)).toContain(backend.service.port.name);
      }
    }
    const bodyMb = Number(
      /^(\d+)m$/.exec(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size'])?.[1],
    );
    expect(bodyMb).toBeGreaterThan(Number(configMap.data.MAX_FILE_SIZE_MB ?? 10));
    expect(ingress.metadata.annotations['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
  });
});

/* --- kustomize ------------------------------------------------------------------------------------ */

interface Kustomization {
  apiVersion: string;
  kind: string;
  namespace?: string;
  resources: string[];
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { target: { kind: string; name: string }; patch: string }[];
}

function readKustomization(dir: string): Kustomization {
  return parseManifests(readFileSync(join(dir, KUSTOMIZATION), 'utf8'), KUSTOMIZATION)[0] as unknown as Kustomization;
}

function podTemplateLabels(manifest: Manifest): Record<string, string> {
  return (manifest as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template
    .metadata.labels;
}

function workloads(items: Manifest[]): Manifest[] {
  return items.filter((manifest) => manifest.kind === 'Deployment' || manifest.kind === 'Job');
}

/** PostgreSQL's default `max_connections`, and what is kept free for the migration Job, psql and superusers. */
const MAX_CONNECTIONS = 100;
const CONNECTION_HEADROOM = 10;

/**
 * The most PostgreSQL connections the app's pods can hold at once: for every Deployment that takes
 * the argus ConfigMap, its HPA's maxReplicas (its own replicas when no HPA scales it), each pod
 * holding up to DATABASE_POOL_MAX.
 */
function peakConnections(items: Manifest[]): { pods: number; poolMax: number; peak: number } {
  const configMap = one('ConfigMap', undefined, items) as Manifest & { data: Record<string, string> };
  const poolMax = Number(configMap.data.DATABASE_POOL_MAX);
  const hpas = items.filter((m) => m.kind === 'HorizontalPodAutoscaler') as (Manifest & {
    spec: { scaleTargetRef: { kind: string; name: string }; maxReplicas: number };
  })[];
  const pods = items
    .filter((m) => m.kind === 'Deployment')
    .filter((m) =>
      podSpec(m).containers.some((c) => c.envFrom?.some((e) => e.configMapRef?.name === configMap.metadata.name)),
    )
    .map((deployment) => {
      const hpa = hpas.find(
        (h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === deployment.metadata.name,
      );
      return hpa?.spec.maxReplicas ?? (deployment as unknown as { spec: { replicas?: number } }).spec.replicas ?? 1;
    })
    .reduce((sum, count) => sum + count, 0);
  return { pods, poolMax, peak: pods * poolMax };
}

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const withKubectl = kubectl ? it : it.skip;
if (!kubectl) console.warn('kubectl is not installed: kustomize renderings are not checked (structure only).');

function render(dir: string): Manifest[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${result.stderr}`);
  return parseManifests(result.stdout, `kustomize ${dir.slice(ROOT.length + 1)}`);
}

describe('kustomize: docker/k8s (base) and docker/k8s-overlays', () => {
  const base = readKustomization(K8S_DIR);

  it('the base lists every manifest in docker/k8s except the example Secret, and only existing files', () => {
    expect(base.apiVersion).toBe('kustomize.config.k8s.io/v1beta1');
    expect(base.kind).toBe('Kustomization');
    for (const resource of base.resources)
      expect({ resource, exists: existsSync(join(K8S_DIR, resource)) }).toEqual({ resource, exists: true });
    expect([...base.resources].sort()).toEqual(manifestFiles.filter((file) => file !== 'secret.example.yaml').sort());
    expect(base.namespace).toBeUndefined();
  });

  it('sets the image tag in one place: every workload says `image: argus`, kustomize rewrites it', () => {
    expect(base.images).toEqual([{ name: 'argus', newName: expect.any(String), newTag: expect.stringMatching(/\S/) }]);
    for (const workload of workloads(manifests)) {
      for (const container of podSpec(workload).containers) {
        expect({ file: workload.file, image: container.image }).toEqual({ file: workload.file, image: 'argus' });
      }
    }
    // No other file names a tag of the image.
    const tagged = manifestFiles.filter((file) =>
      readFileSync(join(K8S_DIR, file), 'utf8').includes(base.images![0].newName!),
    );
    expect(tagged).toEqual([]);
  });

  it.each(OVERLAYS)('overlay %s builds on the base and patches only objects the base has', (overlay) => {
    const kustomization = readKustomization(join(OVERLAYS_DIR, overlay));
    expect(kustomization.resources).toEqual(['../../k8s']);
    expect(kustomization.images).toBeUndefined();
    expect(kustomization.namespace).toBeTruthy();
    for (const { target } of kustomization.patches ?? []) {
      expect(() => one(target.kind, target.name)).not.toThrow();
    }
  });

  it('base: the pods the HPAs may run, each with DATABASE_POOL_MAX connections, fit in max_connections − headroom', () => {
    const { pods, poolMax, peak } = peakConnections(manifests);
    expect(poolMax).toBeGreaterThan(0);
    expect(pods).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(MAX_CONNECTIONS - CONNECTION_HEADROOM);
  });

  it('docs/operations.md states the same pool inequality', () => {
    const operations = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    expect(operations).toMatch(/### Connection pool sizing/);
    expect(operations).toContain(`max_connections (${MAX_CONNECTIONS}) − ${CONNECTION_HEADROOM}`);
  });

  describe.each(['base', ...OVERLAYS])('rendered: %s', (name) => {
    const dir = name === 'base' ? K8S_DIR : join(OVERLAYS_DIR, name);
    let rendered: Manifest[] = [];
    beforeAll(() => {
      if (kubectl) rendered = render(dir);
    });

    withKubectl('every object validates against the schema (the ServiceMonitor by hand)', () => {
      expect(rendered.length).toBe(base.resources.length);
      const problems = rendered.flatMap((manifest) => {
        if (kindKey(manifest) === SERVICE_MONITOR) return customResourceProblems(manifest);
        const entry = KINDS[kindKey(manifest)];
        if (!entry) return [`no validator for ${kindKey(manifest)}`];
        try {
          new entry.model(strip(manifest) as never).validate();
          return [];
        } catch (error) {
          return [`${manifest.kind} ${manifest.metadata.name}: ${(error as Error).message}`];
        }
      });
      expect(problems).toEqual([]);
    });

    withKubectl('every workload runs the one tagged image of the base kustomization', () => {
      const image = `${base.images![0].newName}:${base.images![0].newTag}`;
      for (const workload of workloads(rendered)) {
        for (const container of podSpec(workload).containers) expect(container.image).toBe(image);
      }
    });

    withKubectl('pool sizing holds: Σ maxReplicas × DATABASE_POOL_MAX ≤ max_connections − headroom', () => {
      const { peak } = peakConnections(rendered);
      expect(peak).toBeLessThanOrEqual(MAX_CONNECTIONS - CONNECTION_HEADROOM);
    });

    withKubectl('the HPA never goes below the Deployment’s replicas; the PDB never blocks every drain', () => {
      const deployment = apiDeployment(rendered) as Manifest & { spec: { replicas: number } };
      const hpa = one('HorizontalPodAutoscaler', 'argus', rendered) as Manifest & {
        spec: { minReplicas: number; maxReplicas: number };
      };
      expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(deployment.spec.replicas);
      expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
      const pdb = one('PodDisruptionBudget', 'argus', rendered) as Manifest & {
        spec: { minAvailable?: number; maxUnavailable?: number };
      };
      if (pdb.spec.minAvailable !== undefined) expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
      else expect(pdb.spec.maxUnavailable).toBeGreaterThan(0);
    });
  });

  withKubectl('no rendering has a field the Kubernetes API does not define (one strict type-check of all)', () => {
    const all = ['base', ...OVERLAYS].flatMap((name) => render(name === 'base' ? K8S_DIR : join(OVERLAYS_DIR, name)));
    expect(typeCheck(all.filter((manifest) => KINDS[kindKey(manifest)]))).toEqual([]);
  });

  withKubectl('the overlays differ where they should: namespace, replicas, HPA bounds, resources, host', () => {
    const [staging, production] = OVERLAYS.map((overlay) => render(join(OVERLAYS_DIR, overlay)));
    const facts = (items: Manifest[]) => {
      const deployment = apiDeployment(items) as Manifest & { spec: { replicas: number } };
      const hpa = one('HorizontalPodAutoscaler', 'argus', items) as Manifest & {
        spec: { minReplicas: number; maxReplicas: number };
      };
      const ingress = one('Ingress', undefined, items) as Manifest & {
        spec: { rules: { host: string }[]; tls: { hosts: string[] }[] };
      };
      return {
        namespaces: [...new Set(items.map((m) => m.metadata.namespace))],
        replicas: deployment.spec.replicas,
        hpa: [hpa.spec.minReplicas, hpa.spec.maxReplicas],
        cpuRequest: onlyContainer(deployment).resources?.requests?.cpu,
        host: ingress.spec.rules[0].host,
        tlsHost: ingress.spec.tls[0].hosts[0],
      };
    };
    const [s, p] = [facts(staging), facts(production)];
    expect(s.namespaces).toEqual(['argus-staging']);
    expect(p.namespaces).toEqual(['argus']);
    expect(s.replicas).toBeLessThan(p.replicas);
    expect(s.hpa[1]).toBeLessThan(p.hpa[1]);
    expect(s.cpuRequest).not.toEqual(p.cpuRequest);
    expect(s.host).not.toBe(p.host);
    expect(s.tlsHost).toBe(s.host);
    expect(p.tlsHost).toBe(p.host);
  });
});
