import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { IpSnapshot } from '../entities/ip-snapshot.entity';

export type NewIpSnapshot = Omit<IpSnapshot, 'id'>;

@Injectable()
export class IpSnapshotsRepository {
  constructor(@InjectRepository(IpSnapshot) private readonly snapshots: Repository<IpSnapshot>) {}

  async append(fields: NewIpSnapshot): Promise<IpSnapshot> {
    const snapshot = Object.assign(new IpSnapshot(), { id: randomUUID(), ...fields });
    await this.snapshots.insert(snapshot);
    return snapshot;
  }

  /** The address's most recent snapshot, or null when it was never looked up. */
  findLatest(ip: string): Promise<IpSnapshot | null> {
    return this.snapshots.findOne({ where: { ip }, order: { checkedAt: 'DESC' } });
  }

  /**
   * The latest snapshot of each address whose text starts with `textPrefix` (the caller filters
   * them to its range), from the newest `scanLimit` snapshots of those addresses.
   */
  async latestByPrefix(textPrefix: string, scanLimit: number): Promise<IpSnapshot[]> {
    const newest = await this.snapshots
      .createQueryBuilder('snapshot')
      .where('snapshot.ip LIKE :prefix', { prefix: `${textPrefix}%` })
      .orderBy('snapshot.checked_at', 'DESC')
      .limit(scanLimit)
      .getMany();
    const latest = new Map<string, IpSnapshot>();
    for (const snapshot of newest) if (!latest.has(snapshot.ip)) latest.set(snapshot.ip, snapshot);
    return [...latest.values()];
  }

  /** The address's most recent snapshots, newest first. */
  listNewest(ip: string, limit: number): Promise<IpSnapshot[]> {
    return this.snapshots.find({ where: { ip }, order: { checkedAt: 'DESC' }, take: limit });
  }
}
