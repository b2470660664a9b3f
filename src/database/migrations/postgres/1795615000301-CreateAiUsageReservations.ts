import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * One row per analysis that reserved a unit of its user's daily AI quota (docs/api.md, Image analysis): reserved at
 * acceptance, then charged or refunded exactly once, keyed by the analysis id.
 */
export class CreateAiUsageReservations1795615000301 implements MigrationInterface {
  name = 'CreateAiUsageReservations1795615000301';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ai_usage_reservations" (
        "analysis_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "day" date NOT NULL,
        "state" varchar(8) NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "settled_at" timestamptz,
        CONSTRAINT "PK_ai_usage_reservations" PRIMARY KEY ("analysis_id"),
        CONSTRAINT "CHK_ai_usage_reservations_state" CHECK ("state" IN ('reserved', 'charged', 'refunded')),
        CONSTRAINT "FK_ai_usage_reservations_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ai_usage_reservations"`);
  }
}
