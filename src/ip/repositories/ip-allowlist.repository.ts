import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { IpAllowlistEntry } from '../entities/ip-allowlist-entry.entity';

export type NewAllowlistEntry = Omit<IpAllowlistEntry, 'id' | 'createdAt'>;

@Injectable()
export class IpAllowlistRepository {
  constructor(@InjectRepository(IpAllowlistEntry) private readonly entries: Repository<IpAllowlistEntry>) {}

  async create(fields: NewAllowlistEntry): Promise<IpAllowlistEntry> {
    const entry = Object.assign(new IpAllowlistEntry(), { id: randomUUID(), ...fields, createdAt: new Date() });
    await this.entries.insert(entry);
    return entry;
  }

  /** Every entry, oldest first (expired ones included: they stay listed until deleted). */
  listAll(): Promise<IpAllowlistEntry[]> {
    return this.entries.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async deleteById(id: string): Promise<boolean> {
    const result = await this.entries.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
