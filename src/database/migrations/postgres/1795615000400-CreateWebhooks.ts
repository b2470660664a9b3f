import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateWebhooks1795615000400 implements MigrationInterface {
  name = 'CreateWebhooks1795615000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "webhook_endpoints" (
        "id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "url" varchar(2048) NOT NULL,
        "events" text NOT NULL,
        "description" varchar(256),
        "secret_ciphertext" varchar(256) NOT NULL,
        "failing_since" timestamptz,
        "disabled_at" timestamptz,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_webhook_endpoints" PRIMARY KEY ("id"),
        CONSTRAINT "FK_webhook_endpoints_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    // GET /v1/webhooks and the endpoints an event goes to: WHERE user_id = ? ORDER BY created_at, id.
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_endpoints_user_id_created_at" ON "webhook_endpoints" ("user_id", "created_at", "id")`,
    );
    await queryRunner.query(`
      CREATE TABLE "webhook_deliveries" (
        "id" uuid NOT NULL,
        "endpoint_id" uuid NOT NULL,
        "event_type" varchar(64) NOT NULL,
        "dedupe_key" varchar(255) NOT NULL,
        "payload" text NOT NULL,
        "status" varchar(16) NOT NULL,
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" timestamptz,
        "last_status_code" integer,
        "last_error" varchar(512),
        "last_response" text,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_webhook_deliveries" PRIMARY KEY ("id"),
        CONSTRAINT "FK_webhook_deliveries_endpoint" FOREIGN KEY ("endpoint_id")
          REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_webhook_deliveries_status" CHECK ("status" IN ('pending', 'succeeded', 'failed')),
        CONSTRAINT "CHK_webhook_deliveries_attempts" CHECK ("attempts" >= 0)
      )`);
    // One delivery per (endpoint, dedupe key): emitting the same event twice queues it once.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_webhook_deliveries_endpoint_dedupe" ON "webhook_deliveries" ("endpoint_id", "dedupe_key")`,
    );
    // GET /v1/webhooks/:id/deliveries: newest first, resumed from a cursor.
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_endpoint_created_at" ON "webhook_deliveries" ("endpoint_id", "created_at" DESC, "id" DESC)`,
    );
    // The poller: pending rows whose next attempt is due. Finished rows are most of the table.
    await queryRunner.query(
      `CREATE INDEX "IDX_webhook_deliveries_due" ON "webhook_deliveries" ("next_attempt_at") WHERE "status" = 'pending'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "webhook_deliveries"`);
    await queryRunner.query(`DROP TABLE "webhook_endpoints"`);
  }
}
