import autocannon from 'autocannon';
import { execFile, execFileSync } from 'node:child_process';
import sharp from 'sharp';

/** One measurement of one target: throughput, tail latency and what went wrong. */
export interface Sample {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface LoadTarget {
  url: string;
  headers?: Record<string, string>;
}

let wrkAvailable: boolean | undefined;

/** True where Debian's `wrk` is installed (`apt-get install -y wrk`); autocannon otherwise. */
export function hasWrk(): boolean {
  if (wrkAvailable === undefined) {
    try {
      execFileSync('wrk', ['--version'], { stdio: 'ignore' });
      wrkAvailable = true;
    } catch (error) {
      // `wrk --version` exits 1 after printing its version.
      wrkAvailable = (error as { status?: number }).status === 1;
    }
  }
  return wrkAvailable;
}

/**
 * Offers `connections` concurrent keep-alive connections to `target` for `durationS` seconds with
 * wrk (one thread, on this process's core: the bench re-executes itself pinned to the load core),
 * or with autocannon in this process where wrk is missing.
 */
export function measure(target: LoadTarget, durationS: number, connections: number): Promise<Sample> {
  return hasWrk() ? wrk(target, durationS, connections) : autocannonSample(target, durationS, connections);
}

async function autocannonSample(target: LoadTarget, durationS: number, connections: number): Promise<Sample> {
  const result = await autocannon({ url: target.url, headers: target.headers, connections, duration: durationS });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

function wrk(target: LoadTarget, durationS: number, connections: number): Promise<Sample> {
  const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--latency', '--timeout', '10s'];
  for (const [name, value] of Object.entries(target.headers ?? {})) args.push('-H', `${name}: ${value}`);
  args.push(target.url);
  return new Promise((resolve, reject) => {
    execFile('wrk', args, (error, stdout) => {
      if (error) reject(error);
      else resolve(parseWrk(stdout));
    });
  });
}

/** Reads wrk's summary: `Requests/sec:`, the 99 % line of `--latency`, socket errors, non-2xx. */
export function parseWrk(output: string): Sample {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
  const p99Match = /^\s*99%\s+([\d.]+)(us|ms|s)\s*$/m.exec(output);
  const unit = { us: 0.001, ms: 1, s: 1000 } as const;
  const p99 = p99Match ? Number(p99Match[1]) * unit[p99Match[2] as keyof typeof unit] : Number.NaN;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = socket ? socket.slice(1).reduce((total, value) => total + Number(value), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  return { rps, p99, errors, non2xx };
}

/** How many distinct images `npm run load` generates: a fifth of the expected uploads, and 10 spare. */
export function loadImageCount(rate: number, durationS: number, uploadShare: number): number {
  return Math.ceil(rate * durationS * uploadShare * 0.2) + 10;
}

/** The `index`-th upload image of `npm run load`: 800×600, a background colour and a white circle, JPEG q85. */
export function makeLoadImage(index: number): Promise<Buffer> {
  return sharp({
    create: {
      width: 800,
      height: 600,
      channels: 3,
      background: { r: (index * 37) % 256, g: (index * 91) % 256, b: index % 256 },
    },
  })
    .composite([
      {
        input: Buffer.from(
          `<svg width="800" height="600"><circle cx="${index % 800}" cy="300" r="120" fill="#fff"/></svg>`,
        ),
      },
    ])
    .jpeg({ quality: 85 })
    .toBuffer();
}

/**
 * Which generated image each upload sends: one in five (and the first) a fresh one, the rest one
 * already sent, so most uploads repeat a recent image and are answered from the cache.
 */
export class LoadImagePicker {
  private sent = 0;

  constructor(
    private readonly count: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** An index into the generated images, always below `count`. */
  next(): number {
    const fresh = this.random() < 0.2 || this.sent === 0;
    // Once every image has been sent, a "fresh" upload repeats the last one. Counting past the end
    // (as before 98c6f2e) let a repeat pick an image that was never generated: the body was the
    // text "undefined", which Argus rightly answered 415 (issue 16 item 17).
    if (fresh && this.sent < this.count) this.sent++;
    return fresh ? this.sent - 1 : Math.floor(this.random() * this.sent);
  }
}

/** The multipart body of one upload, as `npm run load` sends it (fetch serialises it). */
export function uploadForm(image: Buffer): FormData {
  const form = new FormData();
  form.append('file', new Blob([image], { type: 'image/jpeg' }), 'photo.jpg');
  return form;
}
