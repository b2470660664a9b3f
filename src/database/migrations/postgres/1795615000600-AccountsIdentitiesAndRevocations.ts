import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Accounts and tokens, revision 2 (docs/api.md, "Accounts and tokens"): users gain
 * `tokens_valid_after` (logout-all), `disabled_at` and `daily_limit` (admin); identity-provider
 * identities are (issuer, subject) rows of their own; revoked access tokens are kept until they
 * expire, so a revocation survives restarts and reaches replicas that start later.
 */
export class AccountsIdentitiesAndRevocations1795615000600 implements MigrationInterface {
  name = 'AccountsIdentitiesAndRevocations1795615000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "users"
        ADD "tokens_valid_after" timestamptz,
        ADD "disabled_at" timestamptz,
        ADD "daily_limit" integer,
        ADD CONSTRAINT "CHK_users_daily_limit" CHECK ("daily_limit" IS NULL OR "daily_limit" >= 0)`);
    await queryRunner.query(`
      CREATE TABLE "user_identities" (
        "id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "issuer" varchar(512) NOT NULL,
        "subject" varchar(255) NOT NULL,
        "created_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_user_identities" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_user_identities_issuer_subject" UNIQUE ("issuer", "subject"),
        CONSTRAINT "FK_user_identities_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_user_identities_user_id" ON "user_identities" ("user_id")`);
    await queryRunner.query(`
      CREATE TABLE "revoked_access_tokens" (
        "token_id" varchar(64) NOT NULL,
        "user_id" uuid NOT NULL,
        "expires_at" timestamptz NOT NULL,
        "revoked_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "PK_revoked_access_tokens" PRIMARY KEY ("token_id"),
        CONSTRAINT "FK_revoked_access_tokens_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_revoked_access_tokens_expires_at" ON "revoked_access_tokens" ("expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "revoked_access_tokens"`);
    await queryRunner.query(`DROP TABLE "user_identities"`);
    await queryRunner.query(`
      ALTER TABLE "users"
        DROP CONSTRAINT "CHK_users_daily_limit",
        DROP COLUMN "daily_limit",
        DROP COLUMN "disabled_at",
        DROP COLUMN "tokens_valid_after"`);
  }
}
