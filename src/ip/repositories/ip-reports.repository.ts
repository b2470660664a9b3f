import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { IpReport } from '../entities/ip-report.entity';

export type NewIpReport = Omit<IpReport, 'id' | 'createdAt'>;

@Injectable()
export class IpReportsRepository {
  constructor(@InjectRepository(IpReport) private readonly reports: Repository<IpReport>) {}

  async create(fields: NewIpReport): Promise<IpReport> {
    const report = Object.assign(new IpReport(), { id: randomUUID(), ...fields, createdAt: new Date() });
    await this.reports.insert(report);
    return report;
  }

  /** The address's most recent reports, newest first. */
  listNewestForIp(ip: string, limit: number): Promise<IpReport[]> {
    return this.reports.find({ where: { ip }, order: { createdAt: 'DESC' }, take: limit });
  }

  countForIp(ip: string): Promise<number> {
    return this.reports.countBy({ ip });
  }
}
