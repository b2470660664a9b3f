import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, Repository } from 'typeorm';
import { IpLookup } from '../entities/ip-lookup.entity';

@Injectable()
export class IpLookupsRepository {
  constructor(@InjectRepository(IpLookup) private readonly lookups: Repository<IpLookup>) {}

  /** Records (or moves forward) the user's latest lookup of the address. */
  async touch(userId: string, ip: string, at: Date): Promise<void> {
    await this.lookups.upsert({ userId, ip, lookedUpAt: at }, ['userId', 'ip']);
  }

  /** Users who looked the address up after `since`. */
  async usersSince(ip: string, since: Date): Promise<string[]> {
    const rows = await this.lookups.find({ select: { userId: true }, where: { ip, lookedUpAt: MoreThan(since) } });
    return rows.map((row) => row.userId);
  }
}
