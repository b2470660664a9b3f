import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { FakeServer, RecordedRequest, Script } from './fake-server';

/** How the receiver answers one delivery. */
export type ReceiverAction =
  | { kind: 'status'; status: number; body?: string }
  /** Sends nothing until the server closes. */
  | { kind: 'hang' }
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string };

export interface ReceivedDelivery extends RecordedRequest {
  /** The body bytes as sent (what the signature covers). */
  rawBody: string;
  /** `Webhook#verify` of the `standardwebhooks` package accepted it; else why not. */
  verified: true | string;
}

/**
 * A webhook endpoint on 127.0.0.1: records every delivery, verifies each one with the reference
 * verifier (`new Webhook(secret).verify(payload, headers)`) and answers as scripted — 204 when
 * nothing is scripted.
 */
export class WebhookReceiver extends FakeServer<ReceivedDelivery> {
  readonly script = new Script<ReceiverAction>();
  /** The `whsec_…` secret of the endpoint this receiver stands for (set after registering it). */
  secret: string | undefined;
  /**
   * The verifier's idea of now, when the test moved the app's clock: `standardwebhooks` refuses a
   * `webhook-timestamp` more than 5 minutes from its `Date.now()`.
   */
  clockOffsetMs = 0;

  /** `<url>/hook`: where endpoints registered against this receiver point. */
  get hookUrl(): string {
    return `${this.url}/hook`;
  }

  protected describe(req: RecordedRequest): ReceivedDelivery {
    return { ...req, rawBody: '', verified: 'not verified yet' };
  }

  protected handle(req: ReceivedDelivery, res: ServerResponse, rawBody: Buffer): Promise<void> | void {
    req.rawBody = rawBody.toString('utf8');
    req.verified = this.verify(req);
    const action = this.script.next() ?? { kind: 'status', status: 204 };
    switch (action.kind) {
      case 'hang':
        return this.sleep(24 * 3_600_000);
      case 'redirect':
        res.writeHead(action.status, { location: action.location, 'content-length': 0 });
        res.end();
        return;
      case 'status':
        res.writeHead(action.status, { 'content-type': 'text/plain' });
        res.end(action.body ?? '');
        return;
    }
  }

  private verify(req: ReceivedDelivery): true | string {
    if (!this.secret) return 'no secret set on the receiver';
    const realNow = Date.now;
    Date.now = () => realNow() + this.clockOffsetMs;
    try {
      new Webhook(this.secret).verify(req.rawBody, req.headers);
      return true;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      Date.now = realNow;
    }
  }
}
