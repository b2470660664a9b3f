import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from '../../config/config.types';
import { MetricsService } from '../../metrics/metrics.service';
import { Clock } from '../clock';
import type { WebhookEndpoint } from '../entities/webhook-endpoint.entity';
import { ClaimedDelivery, WebhookDeliveriesRepository } from '../repositories/webhook-deliveries.repository';
import { WebhookEndpointsRepository } from '../repositories/webhook-endpoints.repository';
import { SecretBox } from '../../common/crypto/secret-box';
import { SecretResealer } from '../secret-resealer';
import { signDelivery } from '../webhook-signature';
import { WebhookEvents } from '../webhook-events.service';
import { AddressGuard, UnsafeWebhookUrlError } from './address-guard';
import { DISABLE_AFTER_MS, MAX_ATTEMPTS, retryDelayMs } from './retry-schedule';
import { AttemptOutcome, sendDelivery } from './webhook-sender';

/** Attempts in flight per process at most. */
const MAX_IN_FLIGHT = 16;
/** A claimed attempt's lease beyond its timeout: a process that dies mid-attempt frees the row after this. */
const LEASE_MARGIN_MS = 30_000;
/** Finished deliveries are kept this long (the deliveries list shows them), then deleted. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3_600_000;
const SWEEP_EVERY_MS = 3_600_000;

/**
 * Delivers queued webhook deliveries (in ARGUS_ROLE `all` and `worker` processes). Polls `webhook_deliveries` for due `pending` rows and claims
 * them in one statement (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas never take a row
 * together; SQLite: one process), with or without Redis. A claim counts the attempt and leases the
 * row; the outcome is written only if the row is still at that attempt.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  /** ARGUS_ROLE=api queues deliveries but leaves delivering them to `all` and `worker` processes. */
  private readonly delivers: boolean;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private pollAgain = false;
  private lastSweep = 0;

  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly events: WebhookEvents,
    private readonly guard: AddressGuard,
    private readonly secrets: SecretBox,
    private readonly resealer: SecretResealer,
    private readonly clock: Clock,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.pollMs = config.get('webhooks.pollMs', { infer: true });
    this.timeoutMs = config.get('webhooks.timeoutMs', { infer: true });
    this.delivers = config.get('jobs.role', { infer: true }) !== 'api';
    // Each delivery in flight listens to it, and removes its listener when it ends.
    setMaxListeners(MAX_IN_FLIGHT, this.stopping.signal);
  }

  onApplicationBootstrap(): void {
    this.events.onQueued(() => this.wake());
    this.schedule(0);
  }

  /** Stops polling; attempts still in flight are aborted and given back uncounted. */
  async onModuleDestroy(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.timer);
    await Promise.all(this.inFlight);
  }

  /** Polls now (after the current poll, if one is running) instead of at the next interval. */
  wake(): void {
    if (this.polling) this.pollAgain = true;
    else this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (!this.delivers || this.stopping.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), delayMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.polling = true;
    this.pollAgain = false;
    try {
      const room = MAX_IN_FLIGHT - this.inFlight.size;
      if (room > 0) {
        const now = this.clock.now();
        const leaseUntil = new Date(now.getTime() + this.timeoutMs + LEASE_MARGIN_MS);
        const claimed = await this.deliveries.claimDue(now, leaseUntil, room);
        for (const delivery of claimed) this.track(this.attempt(delivery));
        if (claimed.length === room) this.pollAgain = true;
      }
      await this.sweep();
    } catch (error) {
      this.logger.warn({ msg: 'webhook poll failed', err: error });
    } finally {
      this.polling = false;
      this.schedule(this.pollAgain ? 0 : this.pollMs);
    }
  }

  /** At most once an hour per process: deletes finished deliveries past DELIVERY_RETENTION_MS. */
  private async sweep(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    const deleted = await this.deliveries.deleteFinishedBefore(new Date(now - DELIVERY_RETENTION_MS));
    if (deleted > 0) this.logger.log({ msg: 'old webhook deliveries deleted', deleted });
  }

  private track(attempt: Promise<void>): void {
    const tracked = attempt
      .catch((error: unknown) => this.logger.error({ msg: 'webhook attempt failed unexpectedly', err: error }))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.wake();
      });
    this.inFlight.add(tracked);
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const endpoint = await this.endpoints.findById(delivery.endpointId);
    // Deleted meanwhile: its deliveries went with it.
    if (!endpoint) return;
    if (endpoint.disabledAt) {
      return this.giveUp(delivery, endpoint, { statusCode: null, error: 'endpoint disabled', response: null });
    }
    // Claims whose attempt never wrote an outcome (the process died, or it threw) still count.
    if (delivery.attempts > MAX_ATTEMPTS) {
      return this.giveUp(delivery, endpoint, { statusCode: null, error: 'no outcome recorded', response: null });
    }
    let secret: string;
    try {
      secret = this.secrets.open(endpoint.secretCiphertext, endpoint.id);
    } catch (error) {
      // Retrying cannot help: the key the secret was sealed with is not configured (docs/runbooks/webhooks.md).
      this.logger.error({ msg: 'webhook secret cannot be opened', endpointId: endpoint.id, err: error });
      return this.giveUp(delivery, endpoint, { statusCode: null, error: 'signing secret unreadable', response: null });
    }
    if (!this.secrets.isCurrent(endpoint.secretCiphertext)) {
      await this.resealer.reseal(endpoint.id, endpoint.secretCiphertext);
    }
    const outcome = await this.send(delivery, endpoint, secret);
    if (outcome.aborted) {
      await this.deliveries.release(delivery.id, delivery.attempts, this.clock.now());
      return;
    }
    this.logger.log({
      msg: 'webhook attempt',
      deliveryId: delivery.id,
      endpointId: endpoint.id,
      type: delivery.eventType,
      attempt: delivery.attempts,
      ok: outcome.ok,
      status: outcome.statusCode,
      error: outcome.error ?? undefined,
    });
    if (outcome.ok) await this.succeed(delivery, endpoint, outcome);
    else await this.fail(delivery, endpoint, outcome);
  }

  /** Checks the URL again (DNS may have changed since registration), signs and sends. */
  private async send(delivery: ClaimedDelivery, endpoint: WebhookEndpoint, secret: string): Promise<AttemptOutcome> {
    const url = new URL(endpoint.url);
    try {
      const pinned = await this.guard.resolve(url);
      const timestamp = Math.floor(this.clock.now().getTime() / 1000);
      return await sendDelivery({
        url,
        pinned,
        headers: { ...signDelivery(secret, delivery.id, timestamp, delivery.payload) },
        body: delivery.payload,
        timeoutMs: this.timeoutMs,
        signal: this.stopping.signal,
      });
    } catch (error) {
      if (!(error instanceof UnsafeWebhookUrlError)) throw error;
      return { ok: false, statusCode: null, error: `refused: ${error.message}`, response: null, aborted: false };
    }
  }

  private async succeed(delivery: ClaimedDelivery, endpoint: WebhookEndpoint, outcome: AttemptOutcome): Promise<void> {
    const at = this.clock.now();
    if (!(await this.deliveries.recordAttempt(delivery.id, delivery.attempts, 'succeeded', outcome, null, at))) return;
    await this.endpoints.recordSuccess(endpoint.id);
    this.metrics.recordWebhookDelivery('success');
  }

  private async fail(delivery: ClaimedDelivery, endpoint: WebhookEndpoint, outcome: AttemptOutcome): Promise<void> {
    const at = this.clock.now();
    const failingSince = await this.endpoints.recordFailure(endpoint.id, at);
    if (at.getTime() - failingSince.getTime() >= DISABLE_AFTER_MS) {
      await this.giveUp(delivery, endpoint, outcome);
      await this.disable(endpoint, failingSince, at);
      return;
    }
    const delayMs = retryDelayMs(delivery.attempts);
    if (delayMs === undefined) {
      await this.giveUp(delivery, endpoint, outcome);
      return;
    }
    const next = new Date(at.getTime() + delayMs);
    if (await this.deliveries.recordAttempt(delivery.id, delivery.attempts, 'pending', outcome, next, at)) {
      this.metrics.recordWebhookDelivery('retry');
    }
  }

  private async giveUp(
    delivery: ClaimedDelivery,
    endpoint: WebhookEndpoint,
    outcome: Pick<AttemptOutcome, 'statusCode' | 'error' | 'response'>,
  ): Promise<void> {
    const at = this.clock.now();
    if (!(await this.deliveries.recordAttempt(delivery.id, delivery.attempts, 'failed', outcome, null, at))) return;
    this.metrics.recordWebhookDelivery('failed');
    this.logger.warn({
      msg: 'webhook delivery failed',
      deliveryId: delivery.id,
      endpointId: endpoint.id,
      attempts: delivery.attempts,
      error: outcome.error,
    });
  }

  private async disable(endpoint: WebhookEndpoint, failingSince: Date, at: Date): Promise<void> {
    if (!(await this.endpoints.disable(endpoint.id, at))) return;
    await this.deliveries.failPending(endpoint.id, 'endpoint disabled', at);
    this.logger.warn({
      msg: 'webhook endpoint disabled',
      endpointId: endpoint.id,
      userId: endpoint.userId,
      failingSince: failingSince.toISOString(),
    });
  }
}
