import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reports count once per reporter per address per 24 h (`counted`: false for a repeat inside the
 * window), and the admin allowlist of addresses, networks and AS numbers (docs/api.md).
 */
export class IpReportWeightAndAllowlist1795615000700 implements MigrationInterface {
  name = 'IpReportWeightAndAllowlist1795615000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "ip_reports" ADD "counted" boolean NOT NULL DEFAULT true`);
    await queryRunner.query(
      `CREATE INDEX "IDX_ip_reports_ip_user_created_at" ON "ip_reports" ("ip", "user_id", "created_at" DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE "ip_allowlist" (
        "id" uuid NOT NULL,
        "value" varchar(64) NOT NULL,
        "note" varchar(256),
        "expires_at" timestamptz,
        "created_by" uuid,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_ip_allowlist" PRIMARY KEY ("id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ip_allowlist"`);
    await queryRunner.query(`DROP INDEX "IDX_ip_reports_ip_user_created_at"`);
    await queryRunner.query(`ALTER TABLE "ip_reports" DROP COLUMN "counted"`);
  }
}
