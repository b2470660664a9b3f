import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { MoreThan, Repository } from 'typeorm';
import { IpReport } from '../entities/ip-report.entity';

export type NewIpReport = Omit<IpReport, 'id' | 'createdAt' | 'counted'>;

/** A reporter's reports of one address count once per this window (docs/api.md, "Users' reports"). */
export const REPORT_COUNT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Per address in a range: what the reports say (`GET /v1/ip/ranges/:cidr`). */
export interface ReportedAddress {
  ip: string;
  reports: number;
  lastReportedAt: Date;
}

@Injectable()
export class IpReportsRepository {
  constructor(@InjectRepository(IpReport) private readonly reports: Repository<IpReport>) {}

  /**
   * Stores the report; it is `counted` unless the same reporter has a counted report of the
   * address in the last 24 h. (Two reports of one user racing each other may both count: at worst
   * one extra count, and the score counts each reporter once whatever happens.)
   */
  async create(fields: NewIpReport, now = new Date()): Promise<IpReport> {
    const since = new Date(now.getTime() - REPORT_COUNT_WINDOW_MS);
    const recent = await this.reports.exists({
      where: { ip: fields.ip, userId: fields.userId, counted: true, createdAt: MoreThan(since) },
    });
    const report = Object.assign(new IpReport(), { id: randomUUID(), ...fields, counted: !recent, createdAt: now });
    await this.reports.insert(report);
    return report;
  }

  /** The address's most recent reports, newest first. */
  listNewestForIp(ip: string, limit: number): Promise<IpReport[]> {
    return this.reports.find({ where: { ip }, order: { createdAt: 'DESC' }, take: limit });
  }

  /** Counted reports of the address (one per reporter per 24 h). */
  countForIp(ip: string): Promise<number> {
    return this.reports.countBy({ ip, counted: true });
  }

  findById(id: string): Promise<IpReport | null> {
    return this.reports.findOneBy({ id });
  }

  /** Deletes the report; answers whether it existed. */
  async deleteById(id: string): Promise<boolean> {
    const result = await this.reports.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Reported addresses whose text starts with `textPrefix` (the caller filters them to its range):
   * counted reports and the latest report time per address, at most `limit` addresses.
   */
  async summariseByPrefix(textPrefix: string, limit: number): Promise<ReportedAddress[]> {
    const rows = await this.reports
      .createQueryBuilder('report')
      .select('report.ip', 'ip')
      .addSelect('SUM(CASE WHEN report.counted THEN 1 ELSE 0 END)', 'reports')
      .addSelect('MAX(report.created_at)', 'lastReportedAt')
      .where('report.ip LIKE :prefix', { prefix: `${textPrefix}%` })
      .groupBy('report.ip')
      .orderBy('report.ip')
      .limit(limit)
      .getRawMany<{ ip: string; reports: string | number; lastReportedAt: string | Date }>();
    return rows.map((row) => ({
      ip: row.ip,
      reports: Number(row.reports),
      lastReportedAt: toDate(row.lastReportedAt),
    }));
  }
}

/** Raw MAX() of a timestamp: a Date from PostgreSQL, UTC text from SQLite. */
function toDate(value: string | Date): Date {
  if (value instanceof Date) return value;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(' ', 'T')}Z`);
}
