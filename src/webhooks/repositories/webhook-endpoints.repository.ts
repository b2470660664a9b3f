import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Like, Not, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { WebhookEndpoint } from '../entities/webhook-endpoint.entity';
import type { WebhookEventType } from '../webhook-events';

@Injectable()
export class WebhookEndpointsRepository {
  constructor(@InjectRepository(WebhookEndpoint) private readonly endpoints: Repository<WebhookEndpoint>) {}

  async insert(endpoint: WebhookEndpoint): Promise<void> {
    // simple-json columns hold arrays, which TypeORM's deep-partial insert type cannot express.
    await this.endpoints.insert(endpoint as QueryDeepPartialEntity<WebhookEndpoint>);
  }

  /** The user's endpoints, oldest first. */
  listByUser(userId: string): Promise<WebhookEndpoint[]> {
    return this.endpoints.find({ where: { userId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  countByUser(userId: string): Promise<number> {
    return this.endpoints.countBy({ userId });
  }

  /** The user's endpoint, or null when it does not exist or belongs to someone else. */
  findOwned(userId: string, id: string): Promise<WebhookEndpoint | null> {
    return this.endpoints.findOneBy({ id, userId });
  }

  findById(id: string): Promise<WebhookEndpoint | null> {
    return this.endpoints.findOneBy({ id });
  }

  /** False when there was nothing of the user's to delete. Its deliveries go with it (cascade). */
  async deleteOwned(userId: string, id: string): Promise<boolean> {
    const { affected } = await this.endpoints.delete({ id, userId });
    return (affected ?? 0) > 0;
  }

  /** The user's enabled endpoints subscribed to `type`. A user has a few endpoints: filtered here. */
  async findSubscribed(userId: string, type: WebhookEventType): Promise<WebhookEndpoint[]> {
    const enabled = await this.endpoints.findBy({ userId, disabledAt: IsNull() });
    return enabled.filter((endpoint) => endpoint.events.includes(type));
  }

  /** Every endpoint whose secret was not sealed with `currentPrefix` (id and sealed secret only). */
  findSealedOtherwise(currentPrefix: string): Promise<Array<Pick<WebhookEndpoint, 'id' | 'secretCiphertext'>>> {
    return this.endpoints.find({
      where: { secretCiphertext: Not(Like(`${currentPrefix}%`)) },
      select: { id: true, secretCiphertext: true },
    });
  }

  /** Replaces the sealed secret unless it changed meanwhile; false when it did. */
  async replaceSealedSecret(id: string, previous: string, next: string): Promise<boolean> {
    const { affected } = await this.endpoints.update({ id, secretCiphertext: previous }, { secretCiphertext: next });
    return (affected ?? 0) > 0;
  }

  /** An attempt got a 2xx: the endpoint's run of failures (if any) is over. */
  async recordSuccess(id: string): Promise<void> {
    await this.endpoints.update({ id, failingSince: Not(IsNull()) }, { failingSince: null });
  }

  /** An attempt failed at `at`: starts the run of failures unless one is running; returns its start. */
  async recordFailure(id: string, at: Date): Promise<Date> {
    await this.endpoints.update({ id, failingSince: IsNull() }, { failingSince: at });
    const endpoint = await this.endpoints.findOne({ where: { id }, select: { id: true, failingSince: true } });
    return endpoint?.failingSince ?? at;
  }

  /** True when this call disabled it (not already disabled). */
  async disable(id: string, at: Date): Promise<boolean> {
    const { affected } = await this.endpoints.update({ id, disabledAt: IsNull() }, { disabledAt: at });
    return (affected ?? 0) > 0;
  }
}
