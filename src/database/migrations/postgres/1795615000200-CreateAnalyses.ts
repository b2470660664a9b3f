import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAnalyses1795615000200 implements MigrationInterface {
  name = 'CreateAnalyses1795615000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "analyses" (
        "id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "sha256" varchar(64) NOT NULL,
        "prompt" varchar(1000),
        "metadata" text NOT NULL,
        "provider" varchar(32) NOT NULL,
        "model" varchar(128) NOT NULL,
        "result" text NOT NULL,
        "image_format" varchar(8) NOT NULL,
        "image_width" integer NOT NULL,
        "image_height" integer NOT NULL,
        "image_bytes" integer NOT NULL,
        "input_tokens" integer NOT NULL DEFAULT 0,
        "output_tokens" integer NOT NULL DEFAULT 0,
        "cost_usd" double precision NOT NULL DEFAULT 0,
        "cached" boolean NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_analyses" PRIMARY KEY ("id"),
        CONSTRAINT "FK_analyses_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_analyses_sha256" CHECK ("sha256" ~ '^[0-9a-f]{64}$'),
        CONSTRAINT "CHK_analyses_image_format" CHECK ("image_format" IN ('jpeg', 'webp')),
        CONSTRAINT "CHK_analyses_usage" CHECK ("input_tokens" >= 0 AND "output_tokens" >= 0 AND "cost_usd" >= 0)
      )`);
    // History pages: WHERE user_id = ? ORDER BY created_at DESC, id DESC, resumed from a cursor.
    await queryRunner.query(
      `CREATE INDEX "IDX_analyses_user_id_created_at" ON "analyses" ("user_id", "created_at" DESC, "id" DESC)`,
    );
    // Deleting an analysis asks whether any other row still uses the stored image.
    await queryRunner.query(`CREATE INDEX "IDX_analyses_sha256" ON "analyses" ("sha256")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "analyses"`);
  }
}
