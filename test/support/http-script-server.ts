import { ServerResponse } from 'node:http';
import { FakeServer, RecordedRequest, Script } from '../fakes/fake-server';

/** One scripted answer: a status with optional headers and JSON body, or no answer at all. */
export type ScriptStep = { status: number; headers?: Record<string, string>; body?: unknown } | { hang: true };

/**
 * A real HTTP server answering from a script (default: 200 `{}`), for tests of the outbound
 * client. It records every request and which hanging requests the client gave up on.
 */
export class HttpScriptServer extends FakeServer {
  readonly script = new Script<ScriptStep>();
  /** Hanging requests whose connection the client closed (an abort that reached the socket). */
  readonly abandoned: RecordedRequest[] = [];

  protected describe(req: RecordedRequest): RecordedRequest {
    return req;
  }

  protected handle(req: RecordedRequest, res: ServerResponse): void {
    const step = this.script.next() ?? { status: 200, body: {} };
    if ('hang' in step) {
      if (res.destroyed) this.abandoned.push(req);
      else res.once('close', () => this.abandoned.push(req));
      return;
    }
    this.sendJson(res, step.status, step.body ?? {}, step.headers);
  }

  reset(): void {
    this.script.clear();
    this.requests.length = 0;
    this.abandoned.length = 0;
  }
}
