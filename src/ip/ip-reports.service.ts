import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import type { AuthenticatedUser } from '../auth/auth.types';
import { isPublicScope } from './ip-address';
import { parseClientAddress } from './ip-address.input';
import type { IpReportView } from './ip-reputation.types';
import { IpResultCache } from './ip-result-cache';
import { IpReportsRepository } from './repositories/ip-reports.repository';

export interface NewReport {
  categories: number[];
  comment?: string;
}

/** Users' abuse reports (`POST /v1/ip/:address/reports`), the data of the `local` source. */
@Injectable()
export class IpReportsService {
  constructor(
    private readonly reports: IpReportsRepository,
    private readonly results: IpResultCache,
  ) {}

  /**
   * Stores the report and drops the address's cached answer, so the reporter's next lookup
   * already counts it. Only public addresses can be reported: a private, loopback, documentation…
   * address is never looked up, so a report of one could never count (400).
   */
  async report(user: AuthenticatedUser, address: string, fields: NewReport): Promise<IpReportView> {
    const ip = parseClientAddress(address);
    if (!isPublicScope(ip.scope)) {
      throw new BadRequestException(
        `${ip.ip} is a ${ip.scope} address: it is not reachable on the Internet, so there is nothing to report.`,
      );
    }
    const report = await this.reports.create({
      ip: ip.ip,
      userId: user.id,
      categories: [...new Set(fields.categories)].sort((a, b) => a - b),
      comment: fields.comment ?? null,
    });
    await this.results.forget(ip.ip);
    return {
      id: report.id,
      ip: report.ip,
      categories: report.categories,
      comment: report.comment,
      createdAt: report.createdAt.toISOString(),
    };
  }

  /**
   * `DELETE /v1/admin/ip-reports/:id`: the report is gone and stops counting at once — the
   * address's cached answer is dropped (shared through Redis, so on every replica).
   */
  async remove(id: string): Promise<void> {
    const report = await this.reports.findById(id);
    if (report === null || !(await this.reports.deleteById(id))) {
      throw new NotFoundException('No report with this id.');
    }
    await this.results.forget(report.ip);
  }
}
