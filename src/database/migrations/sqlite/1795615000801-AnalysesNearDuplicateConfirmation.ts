import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Near-duplicates, second half: see the PostgreSQL migration of the same name. SQLite adds one
 * column per statement and cannot add a CHECK to an existing table (the application writes them).
 */
export class AnalysesNearDuplicateConfirmation1795615000801 implements MigrationInterface {
  name = 'AnalysesNearDuplicateConfirmation1795615000801';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "analyses" ADD COLUMN "colour_layout" varchar(96)`);
    await queryRunner.query(`ALTER TABLE "analyses" ADD COLUMN "cache" varchar(8)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "analyses" DROP COLUMN "cache"`);
    await queryRunner.query(`ALTER TABLE "analyses" DROP COLUMN "colour_layout"`);
  }
}
