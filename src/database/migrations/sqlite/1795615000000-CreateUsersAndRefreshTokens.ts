import { MigrationInterface, QueryRunner } from 'typeorm';

/** Timestamps as TypeORM writes them on SQLite: UTC `YYYY-MM-DD HH:MM:SS.SSS` text. */
const NOW = `(strftime('%Y-%m-%d %H:%M:%f', 'now'))`;

export class CreateUsersAndRefreshTokens1795615000000 implements MigrationInterface {
  name = 'CreateUsersAndRefreshTokens1795615000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "users" (
        "id" varchar(36) NOT NULL,
        "email" varchar(254) NOT NULL,
        "password_hash" varchar(60),
        "role" varchar(16) NOT NULL DEFAULT ('user'),
        "external_id" varchar(255),
        "created_at" datetime NOT NULL DEFAULT ${NOW},
        CONSTRAINT "PK_users" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_users_email" UNIQUE ("email"),
        CONSTRAINT "UQ_users_external_id" UNIQUE ("external_id"),
        CONSTRAINT "CHK_users_role" CHECK ("role" IN ('user', 'admin'))
      )`);
    await queryRunner.query(`
      CREATE TABLE "refresh_tokens" (
        "id" varchar(36) NOT NULL,
        "user_id" varchar(36) NOT NULL,
        "family_id" varchar(36) NOT NULL,
        "token_hash" varchar(64) NOT NULL,
        "expires_at" datetime NOT NULL,
        "used_at" datetime,
        "revoked_at" datetime,
        "created_at" datetime NOT NULL DEFAULT ${NOW},
        CONSTRAINT "PK_refresh_tokens" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_refresh_tokens_token_hash" UNIQUE ("token_hash"),
        CONSTRAINT "FK_refresh_tokens_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_refresh_tokens_user_id" ON "refresh_tokens" ("user_id")`);
    await queryRunner.query(`CREATE INDEX "IDX_refresh_tokens_family_id" ON "refresh_tokens" ("family_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "refresh_tokens"`);
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
