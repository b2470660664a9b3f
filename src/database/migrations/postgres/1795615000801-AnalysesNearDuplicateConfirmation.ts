import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Near-duplicates, second half (docs/api.md, "Near-duplicates"): `colour_layout` is the image's
 * 4 × 4 sRGB thumbnail (96 hex digits) that confirms a perceptual-hash match — the hash is
 * greyscale and contrast-free, so a recoloured image would otherwise match; `cache` says how a
 * cached answer was found (`exact` or `near`; null when the model was asked, and on rows cached
 * before this column, which read as `exact`).
 */
export class AnalysesNearDuplicateConfirmation1795615000801 implements MigrationInterface {
  name = 'AnalysesNearDuplicateConfirmation1795615000801';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "analyses"
        ADD COLUMN "colour_layout" varchar(96),
        ADD COLUMN "cache" varchar(8),
        ADD CONSTRAINT "CHK_analyses_colour_layout" CHECK ("colour_layout" IS NULL OR "colour_layout" ~ '^[0-9a-f]{96}$'),
        ADD CONSTRAINT "CHK_analyses_cache" CHECK ("cache" IS NULL OR "cache" IN ('exact', 'near'))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "analyses"
        DROP CONSTRAINT "CHK_analyses_cache",
        DROP CONSTRAINT "CHK_analyses_colour_layout",
        DROP COLUMN "cache",
        DROP COLUMN "colour_layout"`);
  }
}
