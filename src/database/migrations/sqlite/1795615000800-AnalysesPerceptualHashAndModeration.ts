import { MigrationInterface, QueryRunner } from 'typeorm';

const BANDS = [0, 1, 2, 3];

/**
 * Near-duplicates and moderation: see the PostgreSQL migration of the same name. SQLite adds one
 * column per statement and cannot add a CHECK to an existing table (the application writes them).
 */
export class AnalysesPerceptualHashAndModeration1795615000800 implements MigrationInterface {
  name = 'AnalysesPerceptualHashAndModeration1795615000800';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "analyses" ADD COLUMN "phash" varchar(16)`);
    for (const band of BANDS) await queryRunner.query(`ALTER TABLE "analyses" ADD COLUMN "phash_b${band}" integer`);
    await queryRunner.query(`ALTER TABLE "analyses" ADD COLUMN "moderation" text`);
    for (const band of BANDS) {
      await queryRunner.query(
        `CREATE INDEX "IDX_analyses_phash_b${band}" ON "analyses" ("phash_b${band}") WHERE "phash_b${band}" IS NOT NULL`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const band of BANDS) await queryRunner.query(`DROP INDEX "IDX_analyses_phash_b${band}"`);
    await queryRunner.query(`ALTER TABLE "analyses" DROP COLUMN "moderation"`);
    for (const band of BANDS) await queryRunner.query(`ALTER TABLE "analyses" DROP COLUMN "phash_b${band}"`);
    await queryRunner.query(`ALTER TABLE "analyses" DROP COLUMN "phash"`);
  }
}
