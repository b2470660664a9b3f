import { MigrationInterface, QueryRunner } from 'typeorm';

const BANDS = [0, 1, 2, 3];

/**
 * Near-duplicates and moderation (docs/api.md): each analysis keeps its 64-bit perceptual hash as
 * 16 hex digits and as four 16-bit bands, each band indexed so a Hamming-distance lookup probes
 * the indexes (multi-index hashing) instead of scanning; `moderation` holds the decision (JSON).
 */
export class AnalysesPerceptualHashAndModeration1795615000800 implements MigrationInterface {
  name = 'AnalysesPerceptualHashAndModeration1795615000800';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE "analyses"
        ADD COLUMN "phash" varchar(16),
        ${BANDS.map((band) => `ADD COLUMN "phash_b${band}" integer`).join(',\n        ')},
        ADD COLUMN "moderation" text,
        ADD CONSTRAINT "CHK_analyses_phash" CHECK ("phash" IS NULL OR "phash" ~ '^[0-9a-f]{16}$'),
        ADD CONSTRAINT "CHK_analyses_phash_bands" CHECK (
          ${BANDS.map((band) => `("phash_b${band}" IS NULL OR "phash_b${band}" BETWEEN 0 AND 65535)`).join(' AND ')})`);
    for (const band of BANDS) {
      await queryRunner.query(
        `CREATE INDEX "IDX_analyses_phash_b${band}" ON "analyses" ("phash_b${band}") WHERE "phash_b${band}" IS NOT NULL`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const band of BANDS) await queryRunner.query(`DROP INDEX "IDX_analyses_phash_b${band}"`);
    await queryRunner.query(`
      ALTER TABLE "analyses"
        DROP CONSTRAINT "CHK_analyses_phash_bands",
        DROP CONSTRAINT "CHK_analyses_phash",
        DROP COLUMN "moderation",
        ${BANDS.map((band) => `DROP COLUMN "phash_b${band}"`).join(',\n        ')},
        DROP COLUMN "phash"`);
  }
}
