import { createHash } from 'node:crypto';
import type { QueryRunner } from 'typeorm';

const BATCH = 500;

export interface KeylessRow {
  id: string;
  sha256: string;
  prompt: string | null;
  provider: string;
  model: string;
}

/**
 * Gives every analysis written before the jobs migration its result-cache key, so answers given
 * before the upgrade are found by the durable cache too. A frozen copy of the key as the code made
 * it then (src/analysis/analysis-cache-key.ts, prompt version `v1`): a later version bump must not
 * change what this migration writes.
 */
export async function backfillCacheKeys(queryRunner: QueryRunner): Promise<void> {
  const postgres = queryRunner.connection.options.type === 'postgres';
  const select = `SELECT "id", "sha256", "prompt", "provider", "model" FROM "analyses" WHERE "cache_key" IS NULL LIMIT ${BATCH}`;
  const update = `UPDATE "analyses" SET "cache_key" = ${postgres ? '$1' : '?'} WHERE "id" = ${postgres ? '$2' : '?'}`;
  for (;;) {
    const rows = (await queryRunner.query(select)) as KeylessRow[];
    for (const row of rows) await queryRunner.query(update, [cacheKeyV1(row), row.id]);
    if (rows.length < BATCH) return;
  }
}

export function cacheKeyV1({ sha256, prompt, provider, model }: KeylessRow): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(['v1', provider, model, sha256, prompt ?? null]))
    .digest('hex');
  return `analysis:v1:${digest}`;
}
