import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { createTestApp, servicesMode, TestApp } from '../support/test-app';

/**
 * docker/prometheus/alerts.yml, prometheus.yml and the Grafana dashboard docker/grafana/argus.json.
 *
 * Always: every metric an expression names is one the app exports (read from a booted app's
 * /metrics), a Prometheus/Kubernetes series from a short allow-list, and every label name and
 * enumerated label value is one those metrics carry. With `promtool` on PATH (Debian package
 * `prometheus`): `promtool check rules`, the rule unit tests in alerts.test.yml, `promtool check
 * config`, and the dashboard's queries parsed by promtool as recording rules.
 */

const PROMETHEUS_DIR = join(__dirname, '..', '..', 'docker', 'prometheus');
const DASHBOARD_FILE = join(__dirname, '..', '..', 'docker', 'grafana', 'argus.json');
const ROOT = join(__dirname, '..', '..');
/** Where every alert's runbook_url points: docs/runbooks/<page>.md on the default branch. */
const RUNBOOK_URL = /^https:\/\/github\.com\/your-org\/argus\/blob\/main\/(docs\/runbooks\/[a-z0-9-]+\.md)$/;

/** Metrics the app exports only with PostgreSQL (the embedded database has no pool). */
const POSTGRES_ONLY_METRICS = new Set([
  'argus_db_pool_connections',
  'argus_db_pool_idle_connections',
  'argus_db_pool_waiting',
  'argus_db_pool_max_connections',
]);

/** Series that come from Prometheus itself or kube-state-metrics, not from the app. */
const EXTERNAL_METRICS = new Set([
  'up',
  'kube_pod_status_ready',
  'kube_pod_owner',
  'kube_deployment_status_replicas_available',
]);

/** Label names the expressions may use: the app's (docs/operations.md), the scrape's, kube-state-metrics'. */
const KNOWN_LABELS = new Set([
  ...['method', 'route', 'status_code', 'cache', 'result', 'provider', 'outcome', 'model', 'kind', 'key', 'le'],
  ...['connection', 'queue', 'state', 'feed'],
  ...['job', 'instance'],
  ...['namespace', 'pod', 'condition', 'owner_kind', 'owner_name', 'deployment'],
]);

/** Values fixed by docs/operations.md for the enumerated labels. */
const LABEL_VALUES: Record<string, string[]> = {
  // Upstream calls (success…circuit_open), webhook deliveries (success, retry, failed), jobs (succeeded, failed, released).
  outcome: ['success', 'error', 'timeout', 'rejected', 'circuit_open', 'retry', 'failed', 'succeeded', 'released'],
  result: ['hit', 'miss'],
  kind: ['input', 'output'],
};

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
  'atan2',
  'inf',
  'nan',
]);
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

/** Grafana's variables replaced by values Prometheus accepts. */
function fromGrafana(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?instance\}?/g, '.*');
}

function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
}

/** Metric names an expression selects (identifiers that are not functions, keywords or labels). */
function metricNames(expr: string): string[] {
  const text = withoutStrings(expr)
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(GROUPING, ' ');
  const names = text.match(/(?<![\w:.$])[a-zA-Z_:][\w:]*(?![\w:])(?!\s*\()/g) ?? [];
  return [...new Set(names.filter((name) => !PROMQL_KEYWORDS.has(name.toLowerCase())))];
}

/** Label names used in matchers and in by/without/on/ignoring/group_* lists. */
function labelNames(expr: string): string[] {
  const text = withoutStrings(expr);
  const names: string[] = [];
  for (const [, body] of text.matchAll(/\{([^}]*)\}/g)) {
    for (const [, name] of body.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) names.push(name);
  }
  for (const [, list] of text.matchAll(GROUPING)) {
    names.push(
      ...list
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    );
  }
  return [...new Set(names)];
}

/** `label="value"` / `label!="value"` pairs (exact matchers only; regex matchers are free-form). */
function exactMatchers(expr: string): [string, string][] {
  return [...expr.matchAll(/\b([a-zA-Z_]\w*)\s*!?=\s*"([^"]*)"/g)].map(([, name, value]) => [name, value]);
}

/** Every series name the app's /metrics exposes, histogram and summary series expanded. */
function exportedSeries(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name);
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((suffix) => names.add(name + suffix));
    if (type === 'summary') ['_sum', '_count'].forEach((suffix) => names.add(name + suffix));
  }
  return names;
}

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

const rules: Rule[] = (
  parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }
).groups.flatMap((group) => group.rules);
const alerts = rules.filter((rule) => rule.alert);
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
  uid: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string }[] };
};
const queryPanels = dashboard.panels.filter((panel) => panel.type !== 'row');
const dashboardQueries = queryPanels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr })),
);
const alertQueries = alerts.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }));

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const withPromtool = promtool ? it : it.skip;
if (!promtool) {
  console.warn('promtool is not installed (Debian package `prometheus`): promtool checks are skipped.');
}

function runPromtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('metric names in alerts and dashboard', () => {
  let app: TestApp;
  let exposition: string;
  let exported: Set<string>;

  beforeAll(async () => {
    app = await createTestApp();
    // A readiness probe, as the kubelet sends it: ArgusReadinessFailing counts these.
    await app.http().get('/health/ready').expect(200);
    exposition = (await app.http().get('/metrics').expect(200)).text;
    exported = exportedSeries(exposition);
  });
  afterAll(() => app?.close());

  it('reads the exported metric families from the running app', () => {
    for (const name of [
      'http_requests_total',
      'http_request_duration_seconds_bucket',
      'argus_cache_requests_total',
      'argus_upstream_requests_total',
      'argus_api_key_expiry_timestamp_seconds',
      'process_resident_memory_bytes',
    ]) {
      expect(exported).toContain(name);
    }
  });

  it('exports the database pool (PostgreSQL only) and the Redis connection state (with Redis only)', () => {
    const value = (series: string) => {
      const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    if (servicesMode) {
      for (const name of POSTGRES_ONLY_METRICS) expect(exported).toContain(name);
      // The app has just answered queries: at least one connection is open, none waits.
      expect(value('argus_db_pool_connections')).toBeGreaterThanOrEqual(1);
      expect(value('argus_db_pool_waiting')).toBe(0);
      expect(value('argus_db_pool_max_connections')).toBe(10);
    } else {
      for (const name of POSTGRES_ONLY_METRICS) expect(exported).not.toContain(name);
    }
    if (process.env.TEST_REDIS_URL) {
      expect(value('argus_redis_connection_up{connection="argus"}')).toBe(1);
    } else {
      expect(exposition).not.toMatch(/^argus_redis_connection_up\{/m);
    }
  });

  it('the app counts readiness probes under route="/health/ready" (the basis of ArgusReadinessFailing)', () => {
    expect(exposition).toMatch(/^http_requests_total\{[^}]*route="\/health\/ready"[^}]*status_code="200"[^}]*\} 1$/m);
  });

  it('the extractor finds metric names and only metric names', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (method, le) (rate(a_bucket{job="argus", route!~"/x|/y"}[5m] offset 1d))) > 2 and on (route) absent(up{job="argus"}) or b - time() < 14 * 86400',
      ).sort(),
    ).toEqual(['a_bucket', 'b', 'up']);
    expect(labelNames('sum by (method, le) (x{job="a", route!~"b"}) and on (provider) y').sort()).toEqual(
      ['job', 'le', 'method', 'provider', 'route'].sort(),
    );
  });

  it.each([
    ['alerts.yml', alertQueries],
    ['argus.json', dashboardQueries],
  ])('%s names only metrics the app exports (or up/kube_* series)', (_file, queries) => {
    expect(queries.length).toBeGreaterThan(0);
    const unknown = queries.flatMap(({ where, expr }) =>
      metricNames(fromGrafana(expr))
        .filter((name) => !exported.has(name) && !EXTERNAL_METRICS.has(name))
        .filter((name) => servicesMode || !POSTGRES_ONLY_METRICS.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it.each([
    ['alerts.yml', alertQueries],
    ['argus.json', dashboardQueries],
  ])('%s uses only label names and values those metrics carry', (_file, queries) => {
    const problems = queries.flatMap(({ where, expr }) => [
      ...labelNames(fromGrafana(expr))
        .filter((name) => !KNOWN_LABELS.has(name))
        .map((name) => `${where}: unknown label ${name}`),
      ...exactMatchers(expr)
        .filter(([name, value]) => LABEL_VALUES[name] && !LABEL_VALUES[name].includes(value))
        .map(([name, value]) => `${where}: ${name}="${value}" is not a value of ${name}`),
    ]);
    expect(problems).toEqual([]);
  });
});

describe('alert rules (docker/prometheus/alerts.yml)', () => {
  function alert(name: string): Rule {
    const found = alerts.find((rule) => rule.alert === name);
    if (!found) throw new Error(`no alert ${name}`);
    return found;
  }

  it('every alert has a unique name, a severity, a summary and a description', () => {
    expect(new Set(alerts.map((rule) => rule.alert)).size).toBe(alerts.length);
    for (const rule of alerts) {
      expect({ alert: rule.alert, severity: rule.labels?.severity }).toEqual({
        alert: rule.alert,
        severity: expect.stringMatching(/^(critical|warning|info)$/),
      });
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
    }
  });

  it('every alert has a runbook_url to a page in docs/runbooks/ that exists and names the alert', () => {
    const problems = alerts.flatMap((rule) => {
      const path = RUNBOOK_URL.exec(rule.annotations?.runbook_url ?? '')?.[1];
      if (!path) return [`${rule.alert}: runbook_url ${rule.annotations?.runbook_url} is not ${RUNBOOK_URL}`];
      if (!existsSync(join(ROOT, path))) return [`${rule.alert}: ${path} does not exist`];
      return readFileSync(join(ROOT, path), 'utf8').includes(rule.alert!)
        ? []
        : [`${rule.alert}: ${path} never names it`];
    });
    expect(problems).toEqual([]);
  });

  it('covers the issue 6 list', () => {
    // Readiness failing: the app's own count of probe answers, and the kubelet's verdict.
    expect(alert('ArgusReadinessFailing').expr).toMatch(/route="\/health\/ready", status_code="503"/);
    expect(alert('ArgusPodNotReady').expr).toMatch(/kube_pod_status_ready\{condition="false"\}/);
    // 5xx ratio > 1 % over 5 minutes.
    expect(alert('ArgusHighErrorRatio').expr).toMatch(/status_code=~"5\.\."[^\n]*\[5m\]/);
    expect(alert('ArgusHighErrorRatio').expr).toMatch(/> 0\.01\b/);
    // p95 latency > 2 s.
    expect(alert('ArgusHighLatency').expr).toMatch(/histogram_quantile\(0\.95,/);
    expect(alert('ArgusHighLatency').expr).toMatch(/\) > 2\n/);
    // Upstream failure ratio, cache hit ratio collapse, API key expiring within 14 days.
    expect(alert('ArgusUpstreamFailing').expr).toMatch(/outcome!="success"/);
    expect(alert('ArgusCacheHitRatioCollapsed').expr).toMatch(/result="hit"/);
    expect(alert('ArgusApiKeyExpiringSoon').expr).toMatch(
      /argus_api_key_expiry_timestamp_seconds[^\n]*- time\(\)\) < 14 \* 86400/,
    );
  });

  it('every alert fires in at least one promtool unit test of alerts.test.yml', () => {
    const tests = (
      parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8')) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((test) => test.alert_rule_test);
    const fired = new Set(tests.filter((test) => test.exp_alerts.length > 0).map((test) => test.alertname));
    expect(alerts.map((rule) => rule.alert).filter((name) => !fired.has(name!))).toEqual([]);
  });

  it('prometheus.yml loads alerts.yml and scrapes the api as job "argus" with the metrics token', () => {
    const config = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; authorization?: { credentials_file?: string } }[];
    };
    expect(config.rule_files).toEqual(['alerts.yml']);
    const job = config.scrape_configs.find((scrape) => scrape.job_name === 'argus');
    expect(job?.authorization?.credentials_file).toBe('/run/secrets/metrics_token');
    for (const rule of alerts.filter((r) => /argus_|http_|nodejs_|\bup\{/.test(r.expr))) {
      expect({ alert: rule.alert, selectsJob: /job="argus"/.test(rule.expr) }).toEqual({
        alert: rule.alert,
        selectsJob: true,
      });
    }
  });

  withPromtool('promtool check rules', () => {
    const { status, output } = runPromtool(['check', 'rules', join(PROMETHEUS_DIR, 'alerts.yml')]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  withPromtool('promtool test rules (alerts.test.yml)', () => {
    const { status, output } = runPromtool(['test', 'rules', join(PROMETHEUS_DIR, 'alerts.test.yml')]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  withPromtool('promtool check config (syntax; the token file exists only in the container)', () => {
    const { status, output } = runPromtool([
      'check',
      'config',
      '--syntax-only',
      join(PROMETHEUS_DIR, 'prometheus.yml'),
    ]);
    expect({ status, output }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});

describe('Grafana dashboard (docker/grafana/argus.json)', () => {
  it('has the panels on-call looks at', () => {
    const titles = queryPanels.map((panel) => panel.title);
    for (const title of [
      'Request rate by route',
      'p50 latency by route',
      'p95 latency by route',
      'p99 latency by route',
      '5xx ratio (API routes)',
      'Cache hit ratio',
      'Upstream calls by provider and outcome',
      'AI tokens per day',
      'AI cost per day',
      'API key days left',
      'Resident memory',
      'Event loop lag p99',
      'Queue depth by state',
      'Oldest waiting job age',
      'Jobs finished by outcome',
      'Webhook deliveries by outcome',
      'IP feed age and entries',
    ]) {
      expect(titles).toContain(title);
    }
  });

  it('every panel queries the ${datasource} variable, has a unique id and does not overlap another', () => {
    expect(dashboard.uid).toBeTruthy();
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(
      expect.arrayContaining(['datasource', 'instance']),
    );
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    for (const panel of queryPanels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: '${datasource}' });
      expect(panel.targets?.length).toBeGreaterThan(0);
    }
    const cells = new Map<string, string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let row = y; row < y + h; row += 1) {
        for (let column = x; column < x + w; column += 1) {
          const key = `${row}:${column}`;
          expect({ cell: key, panel: cells.get(key) ?? panel.title }).toEqual({ cell: key, panel: panel.title });
          cells.set(key, panel.title);
        }
      }
    }
  });

  withPromtool('promtool parses every panel query', () => {
    const dir = mkdtempSync(join(tmpdir(), 'argus-dashboard-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      const recording = dashboardQueries.map(({ expr }, index) => ({
        record: `dashboard:query_${index}`,
        expr: fromGrafana(expr),
      }));
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
      const { status, output } = runPromtool(['check', 'rules', file]);
      expect({ status, output }).toEqual({
        status: 0,
        output: expect.stringContaining(`${recording.length} rules found`),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
