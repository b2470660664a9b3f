import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateIpTables1795615000100 implements MigrationInterface {
  name = 'CreateIpTables1795615000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ip_snapshots" (
        "id" uuid NOT NULL,
        "ip" varchar(45) NOT NULL,
        "score" integer,
        "verdict" varchar(16) NOT NULL,
        "sources" text NOT NULL,
        "checked_at" timestamptz NOT NULL,
        CONSTRAINT "PK_ip_snapshots" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_ip_snapshots_score" CHECK ("score" IS NULL OR ("score" >= 0 AND "score" <= 100)),
        CONSTRAINT "CHK_ip_snapshots_verdict" CHECK ("verdict" IN ('clean', 'suspicious', 'malicious', 'unknown'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_ip_snapshots_ip_checked_at" ON "ip_snapshots" ("ip", "checked_at" DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE "ip_reports" (
        "id" uuid NOT NULL,
        "ip" varchar(45) NOT NULL,
        "user_id" uuid NOT NULL,
        "categories" text NOT NULL,
        "comment" varchar(1024),
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_ip_reports" PRIMARY KEY ("id"),
        CONSTRAINT "FK_ip_reports_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_ip_reports_ip_created_at" ON "ip_reports" ("ip", "created_at" DESC)`);
    await queryRunner.query(`CREATE INDEX "IDX_ip_reports_user_id" ON "ip_reports" ("user_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ip_reports"`);
    await queryRunner.query(`DROP TABLE "ip_snapshots"`);
  }
}
