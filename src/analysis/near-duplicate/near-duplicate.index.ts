import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../config/config.types';
import { BANDS, bandRadius, bandsOf, probesOf } from './hash-bands';
import { ImageFingerprint, nearDuplicateDistance } from './image-fingerprint';
import { isPerceptualHash } from './perceptual-hash';

export interface NearQuery {
  /** Only this user's analyses (ANALYSIS_CACHE_SCOPE=user); every user's when undefined. */
  userId?: string;
  prompt: string | null;
  provider: string;
  model: string;
  /** Only answers newer than this (ANALYSIS_CACHE_TTL). */
  since: Date;
}

export interface NearMatch {
  /** The earlier analysis whose answer may be reused. */
  id: string;
  phash: string;
  distance: number;
}

/** Candidates read per lookup at most; beyond it the nearest may be missed, never a far one taken. */
const MAX_CANDIDATES = 200;

/**
 * Finds an earlier answered analysis of a near-identical image (docs/api.md, "Near-duplicates"):
 * perceptual hashes within NEAR_DUPLICATE_MAX_DISTANCE bits, looked up through the four indexed
 * band columns (`phash_b0`…`phash_b3`) of the analyses table, confirmed on the full hash and on
 * the colour layout (the hash is greyscale: a recoloured image must not match).
 */
@Injectable()
export class NearDuplicateIndex {
  private readonly maxDistance: number;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    config: ConfigService<AppConfig, true>,
  ) {
    this.maxDistance = config.get('nearDuplicate.maxDistance', { infer: true });
  }

  get enabled(): boolean {
    return this.maxDistance > 0;
  }

  /** The columns to store with an analysis so that it can be found later. */
  static columnsOf({ phash, colourLayout }: ImageFingerprint): {
    phash: string;
    phashB0: number;
    phashB1: number;
    phashB2: number;
    phashB3: number;
    colourLayout: string;
  } {
    const [phashB0, phashB1, phashB2, phashB3] = bandsOf(phash);
    return { phash, phashB0, phashB1, phashB2, phashB3, colourLayout };
  }

  /** The nearest answered analysis within the distance and of the same colours (newest on a tie), or null. */
  async findNear(image: ImageFingerprint, query: NearQuery): Promise<NearMatch | null> {
    const { phash } = image;
    if (!this.enabled || !isPerceptualHash(phash)) return null;
    const radius = bandRadius(this.maxDistance);
    const builder = this.dataSource
      .createQueryBuilder()
      .select(['a.id AS id', 'a.phash AS phash', 'a.colour_layout AS colour_layout', 'a.created_at AS created_at'])
      .from('analyses', 'a')
      .where('a.result IS NOT NULL')
      .andWhere('a.provider = :provider', { provider: query.provider })
      .andWhere('a.model = :model', { model: query.model })
      .andWhere('a.created_at >= :since', { since: query.since });
    if (query.prompt === null) builder.andWhere('a.prompt IS NULL');
    else builder.andWhere('a.prompt = :prompt', { prompt: query.prompt });
    if (query.userId !== undefined) builder.andWhere('a.user_id = :userId', { userId: query.userId });
    const bands = bandsOf(phash);
    const anyBand = Array.from({ length: BANDS }, (_, band) => `a.phash_b${band} IN (:...probes${band})`).join(' OR ');
    const probes = Object.fromEntries(bands.map((value, band) => [`probes${band}`, probesOf(value, radius)]));
    builder.andWhere(`(${anyBand})`, probes).limit(MAX_CANDIDATES);

    const rows: Array<{ id: string; phash: string; colour_layout: string | null; created_at: string | Date }> =
      await builder.getRawMany();
    let best: (NearMatch & { createdAt: number }) | null = null;
    for (const row of rows) {
      const candidate = { phash: row.phash, colourLayout: row.colour_layout ?? '' };
      const distance = nearDuplicateDistance(image, candidate, this.maxDistance);
      if (distance === null) continue;
      const createdAt = new Date(row.created_at).getTime();
      if (!best || distance < best.distance || (distance === best.distance && createdAt > best.createdAt)) {
        best = { id: row.id, phash: row.phash, distance, createdAt };
      }
    }
    return best && { id: best.id, phash: best.phash, distance: best.distance };
  }
}
