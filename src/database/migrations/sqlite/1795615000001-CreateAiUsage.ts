import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAiUsage1795615000001 implements MigrationInterface {
  name = 'CreateAiUsage1795615000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "ai_usage" (
        "user_id" varchar(36) NOT NULL,
        "day" date NOT NULL,
        "count" integer NOT NULL DEFAULT (0),
        CONSTRAINT "PK_ai_usage" PRIMARY KEY ("user_id", "day"),
        CONSTRAINT "CHK_ai_usage_count" CHECK ("count" >= 0),
        CONSTRAINT "FK_ai_usage_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ai_usage"`);
  }
}
