import { readFileSync } from 'node:fs';

export type RawEnv = Record<string, string | undefined>;

const DURATION_UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Parses `15m`, `6h`, `30d`, `500ms` or a bare number of seconds into milliseconds. */
export function parseDurationMs(value: string): number | undefined {
  const match = /^(\d+)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) return undefined;
  const unit = match[2] ?? 's';
  return Number(match[1]) * DURATION_UNITS_MS[unit];
}

/**
 * Reads typed values out of the environment, collecting every problem instead of stopping at the
 * first, so start-up can refuse with one message naming every bad variable.
 */
export class EnvReader {
  readonly errors: string[] = [];

  private readonly files = new Map<string, string | undefined>();

  constructor(private readonly env: RawEnv) {}

  string(name: string): string | undefined;
  string(name: string, fallback: string): string;
  string(name: string, fallback?: string): string | undefined {
    const value = (this.env[name] || this.fromFile(name))?.trim();
    return value === undefined || value === '' ? fallback : value;
  }

  /**
   * `<NAME>_FILE` names a file holding the value of `<NAME>` (Docker/Kubernetes secrets); only
   * variables Argus reads are resolved, so unrelated `*_FILE` variables are left alone.
   */
  private fromFile(name: string): string | undefined {
    if (this.files.has(name)) return this.files.get(name);
    const path = this.env[`${name}_FILE`];
    let value: string | undefined;
    if (path) {
      try {
        value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
      } catch {
        this.errors.push(`${name}_FILE: cannot read the file it names`);
      }
    }
    this.files.set(name, value);
    return value;
  }

  /** Refuses `<NAME>` and `<NAME>_FILE` set together: which one wins would be a guess. */
  checkNotBothSet(names: string[]): void {
    for (const name of names) {
      if (this.env[name] && this.env[`${name}_FILE`])
        this.errors.push(`${name}: set both ${name} and ${name}_FILE; use one`);
    }
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw) || value < min || value > max) {
      this.errors.push(`${name}: must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  optionalInt(name: string, min: number, max: number): number | undefined {
    return this.string(name) === undefined ? undefined : this.int(name, min, min, max);
  }

  number(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) {
      this.errors.push(`${name}: must be a number from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    this.errors.push(`${name}: must be true or false (got "${raw}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.errors.push(`${name}: must be one of ${allowed.join(', ')} (got "${raw}")`);
      return fallback;
    }
    return raw as T;
  }

  durationMs(name: string, fallback: string, minMs: number, maxMs: number): number {
    const raw = this.string(name, fallback);
    const value = parseDurationMs(raw);
    if (value === undefined || value < minMs || value > maxMs) {
      this.errors.push(`${name}: must be a duration such as 30s, 15m, 6h or 7d within range (got "${raw}")`);
      return parseDurationMs(fallback) ?? minMs;
    }
    return value;
  }

  list(name: string): string[] {
    return (this.string(name) ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (!protocols.includes(url.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      this.errors.push(`${name}: must be a ${protocols.join(' or ')} URL`);
      return undefined;
    }
  }

  date(name: string): Date | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const date = new Date(raw);
    if (Number.isNaN(date.getTime())) {
      this.errors.push(`${name}: must be an ISO date such as 2027-01-31 (got "${raw}")`);
      return undefined;
    }
    return date;
  }

  fail(message: string): void {
    this.errors.push(message);
  }
}
