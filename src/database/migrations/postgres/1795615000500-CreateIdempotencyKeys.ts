import { MigrationInterface, QueryRunner } from 'typeorm';

/** docs/api.md, Idempotency keys: one row per (user, Idempotency-Key) — an in-flight marker, then the first response. */
export class CreateIdempotencyKeys1795615000500 implements MigrationInterface {
  name = 'CreateIdempotencyKeys1795615000500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "idempotency_keys" (
        "user_id" uuid NOT NULL,
        "key" varchar(255) NOT NULL,
        "fingerprint" varchar(64) NOT NULL,
        "status" varchar(16) NOT NULL,
        "token" varchar(36) NOT NULL,
        "response_status" integer,
        "response_headers" text,
        "response_body" text,
        "created_at" timestamptz NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "PK_idempotency_keys" PRIMARY KEY ("user_id", "key"),
        CONSTRAINT "FK_idempotency_keys_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_idempotency_keys_status" CHECK ("status" IN ('in-flight', 'completed')),
        CONSTRAINT "CHK_idempotency_keys_response" CHECK (
          "status" = 'in-flight' OR ("response_status" IS NOT NULL AND "response_body" IS NOT NULL)
        )
      )`);
    // The sweeper: DELETE … WHERE expires_at <= now.
    await queryRunner.query(`CREATE INDEX "IDX_idempotency_keys_expires_at" ON "idempotency_keys" ("expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
