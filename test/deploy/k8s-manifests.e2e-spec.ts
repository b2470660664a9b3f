import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Job } from 'kubernetes-models/batch/v1/Job';
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
 * Then the deployment policy of issue 6 is asserted.
 */

const K8S_DIR = join(__dirname, '..', '..', 'docker', 'k8s');

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
};

const manifestFiles = readdirSync(K8S_DIR).filter((file) => /\.ya?ml$/.test(file));

function loadManifests(version: '1.1' | '1.2' = '1.2'): Manifest[] {
  return manifestFiles.flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S_DIR, file), 'utf8'), { version }).map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return { ...(doc.toJS() as Manifest), file };
    }),
  );
}

const manifests = loadManifests();

function one(kind: string): Manifest {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind} in docker/k8s, found ${found.length}`);
  return found[0];
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
    const { module, type } = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
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
  it('contains the issue 6 set of kinds, each once', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(
      ['ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'Job', 'PodDisruptionBudget', 'Secret', 'Service'].sort(),
    );
    expect(one('Secret').file).toBe('secret.example.yaml');
  });

  it('reads the same under YAML 1.1 (kubectl) and 1.2: no `on`/`yes`/`0440`-style scalar changes meaning', () => {
    expect(loadManifests('1.1')).toEqual(manifests);
  });

  it('validates every manifest against the Kubernetes API schema (kubernetes-models)', () => {
    const problems = manifests.flatMap((manifest) => {
      const entry = KINDS[`${manifest.apiVersion}/${manifest.kind}`];
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
    expect(typeCheck(manifests)).toEqual([]);
  });

  it('the strict check catches a misspelt field and a wrong type', () => {
    const deployment = one('Deployment');
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
    const deployment = one('Deployment') as Manifest & {
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
      const service = one('Service') as Manifest & {
        spec: { selector: Record<string, string>; ports: { targetPort: string }[] };
      };
      expect(labels).toMatchObject(service.spec.selector);
      expect(service.spec.ports.map((port) => port.targetPort)).toEqual(['http']);

      const pdb = one('PodDisruptionBudget') as Manifest & {
        spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } };
      };
      expect(pdb.spec.minAvailable).toBe(1);
      expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);

      const hpa = one('HorizontalPodAutoscaler') as Manifest & {
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
    const deployment = one('Deployment');
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
