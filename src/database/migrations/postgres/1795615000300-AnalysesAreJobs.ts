import { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillCacheKeys } from '../1795615000300-analysis-cache-keys';

/**
 * Every analysis is a job (docs/api.md, Image analysis): a row is written `queued` before the model is asked, and
 * a worker moves it to `running` → `succeeded` | `failed` under a lease. Existing rows were all
 * answered, so they become `succeeded`. `cache_key` makes the table the durable result cache.
 */
export class AnalysesAreJobs1795615000300 implements MigrationInterface {
  name = 'AnalysesAreJobs1795615000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "analyses"
        ADD COLUMN "status" varchar(16) NOT NULL DEFAULT 'succeeded',
        ADD COLUMN "attempts" integer NOT NULL DEFAULT 0,
        ADD COLUMN "lease_until" timestamptz,
        ADD COLUMN "worker_id" varchar(128),
        ADD COLUMN "error" text,
        ADD COLUMN "request_id" varchar(128),
        ADD COLUMN "cache_key" varchar(100),
        ADD COLUMN "completed_at" timestamptz`);
    await queryRunner.query(`UPDATE "analyses" SET "completed_at" = "created_at"`);
    await queryRunner.query(`ALTER TABLE "analyses" ALTER COLUMN "status" DROP DEFAULT`);
    await queryRunner.query(`ALTER TABLE "analyses" ALTER COLUMN "result" DROP NOT NULL`);
    await queryRunner.query(`
      ALTER TABLE "analyses"
        ADD CONSTRAINT "CHK_analyses_status" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed')),
        ADD CONSTRAINT "CHK_analyses_attempts" CHECK ("attempts" >= 0)`);
    await backfillCacheKeys(queryRunner);
    // Workers and the reconciler look for unfinished jobs, oldest first; finished ones are most rows.
    await queryRunner.query(
      `CREATE INDEX "IDX_analyses_unfinished" ON "analyses" ("status", "created_at") WHERE "status" IN ('queued', 'running')`,
    );
    // The durable result cache: the newest answer to the same (image, prompt, provider, model).
    await queryRunner.query(
      `CREATE INDEX "IDX_analyses_cache_key" ON "analyses" ("cache_key", "created_at" DESC) WHERE "status" = 'succeeded'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "analyses" WHERE "status" <> 'succeeded'`);
    await queryRunner.query(`DROP INDEX "IDX_analyses_cache_key"`);
    await queryRunner.query(`DROP INDEX "IDX_analyses_unfinished"`);
    await queryRunner.query(
      `ALTER TABLE "analyses" DROP CONSTRAINT "CHK_analyses_attempts", DROP CONSTRAINT "CHK_analyses_status"`,
    );
    await queryRunner.query(`ALTER TABLE "analyses" ALTER COLUMN "result" SET NOT NULL`);
    await queryRunner.query(`
      ALTER TABLE "analyses"
        DROP COLUMN "completed_at", DROP COLUMN "cache_key", DROP COLUMN "request_id", DROP COLUMN "error",
        DROP COLUMN "worker_id", DROP COLUMN "lease_until", DROP COLUMN "attempts", DROP COLUMN "status"`);
  }
}
