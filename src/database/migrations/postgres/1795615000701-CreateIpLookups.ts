import { MigrationInterface, QueryRunner } from 'typeorm';

/** Who looked an address up lately: `ip.verdict_changed` webhooks go to them (docs/api.md, "Webhooks"). */
export class CreateIpLookups1795615000701 implements MigrationInterface {
  name = 'CreateIpLookups1795615000701';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ip_lookups" (
        "user_id" uuid NOT NULL,
        "ip" varchar(45) NOT NULL,
        "looked_up_at" timestamptz NOT NULL,
        CONSTRAINT "PK_ip_lookups" PRIMARY KEY ("user_id", "ip"),
        CONSTRAINT "FK_ip_lookups_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_ip_lookups_ip_looked_up_at" ON "ip_lookups" ("ip", "looked_up_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ip_lookups"`);
  }
}
