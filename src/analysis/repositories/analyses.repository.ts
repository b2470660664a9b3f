import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import type { AnalysisCursor } from '../analysis-cursor';
import { Analysis } from '../entities/analysis.entity';

export type NewAnalysis = Omit<Analysis, 'id' | 'createdAt'>;

@Injectable()
export class AnalysesRepository {
  constructor(@InjectRepository(Analysis) private readonly analyses: Repository<Analysis>) {}

  async insert(fields: NewAnalysis): Promise<Analysis> {
    const analysis = Object.assign(new Analysis(), { id: randomUUID(), createdAt: new Date(), ...fields });
    // simple-json columns hold open objects, which TypeORM's deep-partial insert type cannot express.
    await this.analyses.insert(analysis as QueryDeepPartialEntity<Analysis>);
    return analysis;
  }

  /** The user's analysis, or null when it does not exist or belongs to someone else. */
  findOwned(userId: string, id: string): Promise<Analysis | null> {
    return this.analyses.findOneBy({ id, userId });
  }

  /** Up to `take` of the user's analyses older than `after`, newest first (keyset pagination). */
  listByUser(userId: string, after: AnalysisCursor | undefined, take: number): Promise<Analysis[]> {
    const query = this.analyses.createQueryBuilder('analysis').where('analysis.userId = :userId', { userId });
    if (after) {
      query.andWhere(
        '(analysis.createdAt < :createdAt OR (analysis.createdAt = :createdAt AND analysis.id < :id))',
        { createdAt: after.createdAt, id: after.id },
      );
    }
    return query.orderBy('analysis.createdAt', 'DESC').addOrderBy('analysis.id', 'DESC').limit(take).getMany();
  }

  /** Deletes the user's analysis and returns it, or null when there was none to delete. */
  async deleteOwned(userId: string, id: string): Promise<Analysis | null> {
    const analysis = await this.findOwned(userId, id);
    if (!analysis) return null;
    const { affected } = await this.analyses.delete({ id, userId });
    // A concurrent delete of the same analysis got there first: it answers 204, this one 404.
    return affected === 0 ? null : analysis;
  }

  /** True while any analysis, of any user, still refers to the image of this upload. */
  async isImageInUse(sha256: string): Promise<boolean> {
    return this.analyses.existsBy({ sha256 });
  }
}
