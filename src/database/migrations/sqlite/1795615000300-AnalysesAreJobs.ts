import { MigrationInterface, QueryRunner } from 'typeorm';
import { backfillCacheKeys } from '../1795615000300-analysis-cache-keys';

/** Timestamps as TypeORM writes them on SQLite: UTC `YYYY-MM-DD HH:MM:SS.SSS` text. */
const NOW = `(strftime('%Y-%m-%d %H:%M:%f', 'now'))`;

const COMMON_COLUMNS = `
        "id" varchar(36) NOT NULL,
        "user_id" varchar(36) NOT NULL,
        "sha256" varchar(64) NOT NULL,
        "prompt" varchar(1000),
        "metadata" text NOT NULL,
        "provider" varchar(32) NOT NULL,
        "model" varchar(128) NOT NULL,
        "image_format" varchar(8) NOT NULL,
        "image_width" integer NOT NULL,
        "image_height" integer NOT NULL,
        "image_bytes" integer NOT NULL,
        "input_tokens" integer NOT NULL DEFAULT (0),
        "output_tokens" integer NOT NULL DEFAULT (0),
        "cost_usd" double precision NOT NULL DEFAULT (0),
        "cached" boolean NOT NULL,
        "created_at" datetime NOT NULL DEFAULT ${NOW},`;

const COMMON_CONSTRAINTS = `
        CONSTRAINT "PK_analyses" PRIMARY KEY ("id"),
        CONSTRAINT "FK_analyses_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_analyses_sha256" CHECK (length("sha256") = 64 AND "sha256" NOT GLOB '*[^0-9a-f]*'),
        CONSTRAINT "CHK_analyses_image_format" CHECK ("image_format" IN ('jpeg', 'webp')),
        CONSTRAINT "CHK_analyses_usage" CHECK ("input_tokens" >= 0 AND "output_tokens" >= 0 AND "cost_usd" >= 0)`;

const COPIED = `"id", "user_id", "sha256", "prompt", "metadata", "provider", "model", "result", "image_format",
  "image_width", "image_height", "image_bytes", "input_tokens", "output_tokens", "cost_usd", "cached", "created_at"`;

/**
 * Every analysis is a job (docs/api.md, Image analysis): see the PostgreSQL migration of the same name. SQLite
 * cannot drop a NOT NULL (on `result`), so the table is rebuilt and its rows copied.
 */
export class AnalysesAreJobs1795615000300 implements MigrationInterface {
  name = 'AnalysesAreJobs1795615000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "analyses_jobs" (${COMMON_COLUMNS}
        "result" text,
        "status" varchar(16) NOT NULL,
        "attempts" integer NOT NULL DEFAULT (0),
        "lease_until" datetime,
        "worker_id" varchar(128),
        "error" text,
        "request_id" varchar(128),
        "cache_key" varchar(100),
        "completed_at" datetime,${COMMON_CONSTRAINTS},
        CONSTRAINT "CHK_analyses_status" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed')),
        CONSTRAINT "CHK_analyses_attempts" CHECK ("attempts" >= 0)
      )`);
    await queryRunner.query(
      `INSERT INTO "analyses_jobs" (${COPIED}, "status", "completed_at") SELECT ${COPIED}, 'succeeded', "created_at" FROM "analyses"`,
    );
    await queryRunner.query(`DROP TABLE "analyses"`);
    await queryRunner.query(`ALTER TABLE "analyses_jobs" RENAME TO "analyses"`);
    await createIndexes(queryRunner);
    await backfillCacheKeys(queryRunner);
    await queryRunner.query(
      `CREATE INDEX "IDX_analyses_unfinished" ON "analyses" ("status", "created_at") WHERE "status" IN ('queued', 'running')`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_analyses_cache_key" ON "analyses" ("cache_key", "created_at" DESC) WHERE "status" = 'succeeded'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "analyses_before_jobs" (${COMMON_COLUMNS}
        "result" text NOT NULL,${COMMON_CONSTRAINTS}
      )`);
    await queryRunner.query(
      `INSERT INTO "analyses_before_jobs" (${COPIED}) SELECT ${COPIED} FROM "analyses" WHERE "status" = 'succeeded'`,
    );
    await queryRunner.query(`DROP TABLE "analyses"`);
    await queryRunner.query(`ALTER TABLE "analyses_before_jobs" RENAME TO "analyses"`);
    await createIndexes(queryRunner);
  }
}

/** The indexes of the 1795615000200 migration, which a rebuilt table needs again. */
async function createIndexes(queryRunner: QueryRunner): Promise<void> {
  await queryRunner.query(
    `CREATE INDEX "IDX_analyses_user_id_created_at" ON "analyses" ("user_id", "created_at" DESC, "id" DESC)`,
  );
  await queryRunner.query(`CREATE INDEX "IDX_analyses_sha256" ON "analyses" ("sha256")`);
}
