import { MigrationInterface, QueryRunner } from 'typeorm';

/** Timestamps as TypeORM writes them on SQLite: UTC `YYYY-MM-DD HH:MM:SS.SSS` text. */
const NOW = `(strftime('%Y-%m-%d %H:%M:%f', 'now'))`;

export class CreateIpTables1795615000100 implements MigrationInterface {
  name = 'CreateIpTables1795615000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ip_snapshots" (
        "id" varchar(36) NOT NULL,
        "ip" varchar(45) NOT NULL,
        "score" integer,
        "verdict" varchar(16) NOT NULL,
        "sources" text NOT NULL,
        "checked_at" datetime NOT NULL,
        CONSTRAINT "PK_ip_snapshots" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_ip_snapshots_score" CHECK ("score" IS NULL OR ("score" >= 0 AND "score" <= 100)),
        CONSTRAINT "CHK_ip_snapshots_verdict" CHECK ("verdict" IN ('clean', 'suspicious', 'malicious', 'unknown'))
      )`);
    await queryRunner.query(
      `CREATE INDEX "IDX_ip_snapshots_ip_checked_at" ON "ip_snapshots" ("ip", "checked_at" DESC)`,
    );
    await queryRunner.query(`
      CREATE TABLE "ip_reports" (
        "id" varchar(36) NOT NULL,
        "ip" varchar(45) NOT NULL,
        "user_id" varchar(36) NOT NULL,
        "categories" text NOT NULL,
        "comment" varchar(1024),
        "created_at" datetime NOT NULL DEFAULT ${NOW},
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
