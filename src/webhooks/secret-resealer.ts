import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { WebhookEndpointsRepository } from './repositories/webhook-endpoints.repository';
import { SecretBox } from '../common/crypto/secret-box';

/**
 * Seals endpoint secrets again under the current key, so a key can be retired: at start-up for
 * every endpoint sealed with an older key still configured (JWT_SECRET after WEBHOOK_SECRET_KEY is
 * set, JWT_SECRET_PREVIOUS during a rotation), and whenever a delivery opens such a secret.
 */
@Injectable()
export class SecretResealer implements OnApplicationBootstrap {
  private readonly logger = new Logger(SecretResealer.name);

  constructor(
    private readonly endpoints: WebhookEndpointsRepository,
    private readonly secrets: SecretBox,
  ) {}

  onApplicationBootstrap(): void {
    // Start-up does not wait for it; a replica starting beside it does the same work harmlessly.
    void this.resealAll().catch((error: unknown) =>
      this.logger.error({ msg: 'webhook secret reseal failed', err: error }),
    );
  }

  async resealAll(): Promise<void> {
    const stale = await this.endpoints.findSealedOtherwise(this.secrets.currentPrefix);
    let resealed = 0;
    let unreadable = 0;
    for (const endpoint of stale) {
      if (await this.reseal(endpoint.id, endpoint.secretCiphertext)) resealed++;
      else unreadable++;
    }
    if (stale.length > 0) this.logger.log({ msg: 'webhook secrets resealed', resealed, unreadable });
  }

  /** Seals the secret again under the current key; false when no configured key opens it. */
  async reseal(endpointId: string, sealed: string): Promise<boolean> {
    if (this.secrets.isCurrent(sealed)) return true;
    let secret: string;
    try {
      secret = this.secrets.open(sealed, endpointId);
    } catch (error) {
      this.logger.warn({ msg: 'webhook secret cannot be opened', endpointId, err: error });
      return false;
    }
    await this.endpoints.replaceSealedSecret(endpointId, sealed, this.secrets.seal(secret, endpointId));
    return true;
  }
}
