import { MigrationInterface, QueryRunner } from 'typeorm';

/** Timestamps as TypeORM writes them on SQLite: UTC `YYYY-MM-DD HH:MM:SS.SSS` text. */
const NOW = `(strftime('%Y-%m-%d %H:%M:%f', 'now'))`;

/** See the PostgreSQL migration of the same name. */
export class CreateAiUsageReservations1795615000301 implements MigrationInterface {
  name = 'CreateAiUsageReservations1795615000301';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ai_usage_reservations" (
        "analysis_id" varchar(36) NOT NULL,
        "user_id" varchar(36) NOT NULL,
        "day" date NOT NULL,
        "state" varchar(8) NOT NULL,
        "created_at" datetime NOT NULL DEFAULT ${NOW},
        "settled_at" datetime,
        CONSTRAINT "PK_ai_usage_reservations" PRIMARY KEY ("analysis_id"),
        CONSTRAINT "CHK_ai_usage_reservations_state" CHECK ("state" IN ('reserved', 'charged', 'refunded')),
        CONSTRAINT "FK_ai_usage_reservations_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ai_usage_reservations"`);
  }
}
