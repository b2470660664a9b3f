import { MigrationInterface, QueryRunner } from 'typeorm';

/** Timestamps as TypeORM writes them on SQLite: UTC `YYYY-MM-DD HH:MM:SS.SSS` text. */
const NOW = `(strftime('%Y-%m-%d %H:%M:%f', 'now'))`;

/** See the PostgreSQL migration of the same name. */
export class AccountsIdentitiesAndRevocations1795615000600 implements MigrationInterface {
  name = 'AccountsIdentitiesAndRevocations1795615000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "tokens_valid_after" datetime`);
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "disabled_at" datetime`);
    // No CHECK here: SQLite cannot drop a column a constraint names (down); the DTO bounds it.
    await queryRunner.query(`ALTER TABLE "users" ADD COLUMN "daily_limit" integer`);
    await queryRunner.query(`
      CREATE TABLE "user_identities" (
        "id" varchar(36) NOT NULL,
        "user_id" varchar(36) NOT NULL,
        "issuer" varchar(512) NOT NULL,
        "subject" varchar(255) NOT NULL,
        "created_at" datetime NOT NULL DEFAULT ${NOW},
        CONSTRAINT "PK_user_identities" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_user_identities_issuer_subject" UNIQUE ("issuer", "subject"),
        CONSTRAINT "FK_user_identities_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_user_identities_user_id" ON "user_identities" ("user_id")`);
    await queryRunner.query(`
      CREATE TABLE "revoked_access_tokens" (
        "token_id" varchar(64) NOT NULL,
        "user_id" varchar(36) NOT NULL,
        "expires_at" datetime NOT NULL,
        "revoked_at" datetime NOT NULL DEFAULT ${NOW},
        CONSTRAINT "PK_revoked_access_tokens" PRIMARY KEY ("token_id"),
        CONSTRAINT "FK_revoked_access_tokens_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_revoked_access_tokens_expires_at" ON "revoked_access_tokens" ("expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "revoked_access_tokens"`);
    await queryRunner.query(`DROP TABLE "user_identities"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "daily_limit"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "disabled_at"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "tokens_valid_after"`);
  }
}
