import { Logger, NotFoundException } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import type { AuthenticatedUser } from '../auth/auth.types';
import { CacheService } from '../cache/cache.service';
import { UpstreamUnavailableError } from '../outbound-http/outbound-http.errors';
import type { AppConfig } from '../config/config.types';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import type { ImageStore, StoredImage, StoredImageRef } from '../storage/image-store';
import type { QuotaService } from '../quota/quota.service';
import { AnalysesService } from './analyses.service';
import type { AnalysisCursor } from './analysis-cursor';
import { DailyQuotaExceededError } from './analysis.errors';
import { Analysis } from './entities/analysis.entity';
import { ImageProcessor } from './image-processor';
import type { VisionAnswer, VisionProvider, VisionRequest } from './providers/vision-provider';
import type { AnalysesRepository, NewAnalysis } from './repositories/analyses.repository';
import { ImageUpload } from './upload/image-upload';

type RepositoryDouble = Pick<AnalysesRepository, 'insert' | 'findOwned' | 'listByUser' | 'deleteOwned' | 'isImageInUse'>;
type QuotaDouble = Pick<QuotaService, 'tryConsume' | 'refund' | 'secondsUntilReset'>;

class InMemoryAnalyses implements RepositoryDouble {
  readonly rows: Analysis[] = [];
  private clock = Date.parse('2030-01-01T00:00:00Z');

  async insert(fields: NewAnalysis): Promise<Analysis> {
    const row = Object.assign(new Analysis(), fields, {
      id: `00000000-0000-4000-8000-${String(this.rows.length + 1).padStart(12, '0')}`,
      createdAt: new Date((this.clock += 1000)),
    });
    this.rows.push(row);
    return row;
  }

  async findOwned(userId: string, id: string): Promise<Analysis | null> {
    return this.rows.find((row) => row.id === id && row.userId === userId) ?? null;
  }

  async listByUser(userId: string, after: AnalysisCursor | undefined, take: number): Promise<Analysis[]> {
    return this.rows
      .filter((row) => row.userId === userId)
      .filter((row) => !after || row.createdAt.getTime() < after.createdAt.getTime())
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .slice(0, take);
  }

  async deleteOwned(userId: string, id: string): Promise<Analysis | null> {
    const row = await this.findOwned(userId, id);
    if (row) this.rows.splice(this.rows.indexOf(row), 1);
    return row;
  }

  async isImageInUse(sha256: string): Promise<boolean> {
    return this.rows.some((row) => row.sha256 === sha256);
  }
}

class InMemoryQuota implements QuotaDouble {
  readonly used = new Map<string, number>();
  constructor(private readonly limit: number) {}

  async tryConsume(userId: string): Promise<boolean> {
    const used = this.used.get(userId) ?? 0;
    if (used >= this.limit) return false;
    this.used.set(userId, used + 1);
    return true;
  }

  async refund(userId: string): Promise<void> {
    this.used.set(userId, Math.max(0, (this.used.get(userId) ?? 0) - 1));
  }

  secondsUntilReset(): number {
    return 3600;
  }
}

class InMemoryImageStore implements ImageStore {
  readonly driver = 'memory';
  readonly objects = new Map<string, Buffer>();
  failPuts = false;

  async put(ref: StoredImageRef, data: Buffer): Promise<boolean> {
    if (this.failPuts) throw new Error('disk full');
    if (this.objects.has(key(ref))) return false;
    this.objects.set(key(ref), data);
    return true;
  }

  async get(ref: StoredImageRef): Promise<StoredImage | undefined> {
    const data = this.objects.get(key(ref));
    return data && { stream: Readable.from(data), contentType: `image/${ref.format}`, size: data.length };
  }

  async exists(ref: StoredImageRef): Promise<boolean> {
    return this.objects.has(key(ref));
  }

  async delete(ref: StoredImageRef): Promise<void> {
    this.objects.delete(key(ref));
  }
}

/** A metered provider whose answers the test scripts; it records each request. */
class ScriptedVision implements VisionProvider {
  readonly name = 'openai';
  readonly model = 'gpt-test';
  readonly requests: VisionRequest[] = [];
  answer: (request: VisionRequest) => Promise<VisionAnswer> = async () => ({
    result: { summary: 'A square.', tags: ['square'], details: {} },
    usage: { inputTokens: 100, outputTokens: 10, costUsd: 0.001 },
  });

  constructor(readonly metered = true) {}

  analyse(request: VisionRequest): Promise<VisionAnswer> {
    this.requests.push(request);
    return this.answer(request);
  }
}

function throwsOnRead(upload: ImageUpload): boolean {
  try {
    return upload.bytes.length < 0;
  } catch {
    return true;
  }
}

function key(ref: StoredImageRef): string {
  return `${ref.sha256}.${ref.format}`;
}

function user(id: string): AuthenticatedUser {
  return { id, email: `${id}@example.com`, role: 'user' };
}

const ALICE = user('alice');
const BOB = user('bob');

describe('AnalysesService', () => {
  let images: Buffer[];
  let analyses: InMemoryAnalyses;
  let quota: InMemoryQuota;
  let store: InMemoryImageStore;
  let vision: ScriptedVision;
  let sut: AnalysesService;

  function build(options: { dailyLimit?: number; metered?: boolean } = {}): void {
    const config = new ConfigService<AppConfig, true>({
      redis: { keyPrefix: 'argus-unit:' },
      limits: { analysisCacheTtlMs: 60_000, aiDailyPerUser: options.dailyLimit ?? 10 },
    });
    analyses = new InMemoryAnalyses();
    quota = new InMemoryQuota(options.dailyLimit ?? 10);
    store = new InMemoryImageStore();
    vision = new ScriptedVision(options.metered ?? true);
    sut = new AnalysesService(
      analyses as unknown as AnalysesRepository,
      new ImageProcessor({ maxInputPixels: 1_000_000, maxEdge: 64 }),
      new CacheService(new MetricsService(), new RedisService(config)),
      quota as unknown as QuotaService,
      vision,
      store,
      config,
    );
  }

  beforeAll(async () => {
    Logger.overrideLogger(false);
    images = await Promise.all(
      ['#ff0000', '#00ff00', '#0000ff', '#888888'].map((background) =>
        sharp({ create: { width: 128, height: 96, channels: 3, background } }).png().toBuffer(),
      ),
    );
  });
  beforeEach(() => build());

  it('analyses a new upload: provider call on the normalised image, quota spent, image stored, row with usage', async () => {
    const view = await sut.create(ALICE, new ImageUpload(images[0]), { prompt: 'colours?', metadata: '{"a":1}' });

    expect(view).toMatchObject({
      cached: false,
      provider: 'openai',
      model: 'gpt-test',
      prompt: 'colours?',
      metadata: { a: 1 },
      image: { format: 'jpeg', width: 64, height: 48 },
      usage: { inputTokens: 100, outputTokens: 10, costUsd: 0.001 },
    });
    expect(vision.requests).toHaveLength(1);
    expect(vision.requests[0]).toMatchObject({ prompt: 'colours?', image: { width: 64, format: 'jpeg' } });
    expect(quota.used.get('alice')).toBe(1);
    expect([...store.objects.keys()]).toEqual([`${view.sha256}.jpeg`]);
    expect(analyses.rows).toHaveLength(1);
  });

  it('answers a repeat from cache: no provider call, no quota, zero usage, a row of its own', async () => {
    const first = await sut.create(ALICE, new ImageUpload(images[0]), {});
    const second = await sut.create(BOB, new ImageUpload(images[0]), {});

    expect(second).toMatchObject({ cached: true, result: first.result, usage: { inputTokens: 0, outputTokens: 0, costUsd: 0 } });
    expect(vision.requests).toHaveLength(1);
    expect(quota.used.get('bob')).toBeUndefined();
    expect(analyses.rows.map((row) => [row.userId, row.cached])).toEqual([
      ['alice', false],
      ['bob', true],
    ]);
  });

  it('makes one provider call for concurrent identical uploads and charges only the leader', async () => {
    const views = await Promise.all([ALICE, BOB, user('carol'), user('dave')].map((u) => sut.create(u, new ImageUpload(images[1]), {})));

    expect(vision.requests).toHaveLength(1);
    expect(views.map((view) => view.cached)).toEqual([false, true, true, true]);
    expect([...quota.used.entries()]).toEqual([['alice', 1]]);
  });

  it('refuses with quota-exceeded when the daily quota is used up, but serves cached answers', async () => {
    build({ dailyLimit: 1 });
    await sut.create(ALICE, new ImageUpload(images[0]), {});

    const refused = sut.create(ALICE, new ImageUpload(images[1]), {});

    await expect(refused).rejects.toBeInstanceOf(DailyQuotaExceededError);
    await expect(refused).rejects.toMatchObject({ status: 429, retryAfterSeconds: 3600 });
    await expect(sut.create(ALICE, new ImageUpload(images[0]), {})).resolves.toMatchObject({ cached: true });
    expect(vision.requests).toHaveLength(1);
  });

  it('does not refuse a follower for the quota of the leader it waited on: it makes the call itself', async () => {
    build({ dailyLimit: 1 });
    await sut.create(ALICE, new ImageUpload(images[0]), {});

    // Alice (out of quota) leads the flight for images[1]; Bob joins it, then takes over.
    const [alice, bob] = await Promise.allSettled([sut.create(ALICE, new ImageUpload(images[1]), {}), sut.create(BOB, new ImageUpload(images[1]), {})]);

    expect(alice).toMatchObject({ status: 'rejected', reason: expect.any(DailyQuotaExceededError) });
    expect(bob).toMatchObject({ status: 'fulfilled', value: { cached: false } });
    expect(quota.used.get('bob')).toBe(1);
    expect(vision.requests).toHaveLength(2);
  });

  it('refunds the quota, caches nothing, stores nothing and writes no row when the provider fails', async () => {
    vision.answer = () => Promise.reject(new UpstreamUnavailableError('openai', 500));

    await expect(sut.create(ALICE, new ImageUpload(images[2]), {})).rejects.toBeInstanceOf(UpstreamUnavailableError);

    expect(quota.used.get('alice')).toBe(0);
    expect(store.objects.size).toBe(0);
    expect(analyses.rows).toHaveLength(0);
    vision.answer = new ScriptedVision().answer;
    await expect(sut.create(ALICE, new ImageUpload(images[2]), {})).resolves.toMatchObject({ cached: false });
    expect(vision.requests).toHaveLength(2);
  });

  it('refunds the quota when the image cannot be stored', async () => {
    store.failPuts = true;

    await expect(sut.create(ALICE, new ImageUpload(images[0]), {})).rejects.toThrow('disk full');

    expect(quota.used.get('alice')).toBe(0);
    expect(analyses.rows).toHaveLength(0);
  });

  it('spends no quota with an unmetered (local) provider', async () => {
    build({ dailyLimit: 0, metered: false });

    await expect(sut.create(ALICE, new ImageUpload(images[0]), {})).resolves.toMatchObject({ cached: false });

    expect(quota.used.size).toBe(0);
  });

  it('spends no quota and calls no provider for an upload that is not an image', async () => {
    await expect(sut.create(ALICE, new ImageUpload(Buffer.from('hello')), {})).rejects.toMatchObject({ status: 415 });

    expect(quota.used.size).toBe(0);
    expect(vision.requests).toHaveLength(0);
  });

  it('stores the image again for a cached answer whose image was deleted with its last analysis', async () => {
    const first = await sut.create(ALICE, new ImageUpload(images[0]), {});
    await sut.remove(ALICE, first.id);
    expect(store.objects.size).toBe(0);

    const again = await sut.create(ALICE, new ImageUpload(images[0]), {});

    expect(again.cached).toBe(true);
    expect(store.objects.size).toBe(1);
    expect(vision.requests).toHaveLength(1);
  });

  it('deletes the stored image only with the last analysis that uses it', async () => {
    const alice = await sut.create(ALICE, new ImageUpload(images[3]), {});
    const bob = await sut.create(BOB, new ImageUpload(images[3]), {});

    await sut.remove(ALICE, alice.id);
    expect(store.objects.size).toBe(1);
    await expect(sut.remove(ALICE, bob.id)).rejects.toBeInstanceOf(NotFoundException);
    await sut.remove(BOB, bob.id);
    expect(store.objects.size).toBe(0);
  });

  it('pages history with a cursor until it runs out', async () => {
    for (const image of images) await sut.create(ALICE, new ImageUpload(image), {});

    const first = await sut.list(ALICE, 3, undefined);
    const second = await sut.list(ALICE, 3, first.nextCursor ?? undefined);

    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    expect(new Set([...first.items, ...second.items].map((item) => item.id)).size).toBe(4);
  });

  it('releases the upload before the provider call, and every upload by the end of the request', async () => {
    const leader = new ImageUpload(images[0]);
    let releasedDuringCall = false;
    const answer = vision.answer;
    vision.answer = (request) => {
      releasedDuringCall = throwsOnRead(leader);
      return answer(request);
    };

    await sut.create(ALICE, leader, {});
    const repeat = new ImageUpload(images[0]);
    await sut.create(BOB, repeat, {});
    const refused = new ImageUpload(Buffer.from('not an image'));
    await expect(sut.create(BOB, refused, {})).rejects.toMatchObject({ status: 415 });

    expect(releasedDuringCall).toBe(true);
    expect([leader, repeat, refused].map(throwsOnRead)).toEqual([true, true, true]);
  });

  it('refuses a cursor it did not issue', async () => {
    await expect(sut.list(ALICE, 3, 'bogus')).rejects.toMatchObject({ errors: [{ field: 'cursor' }] });
  });
});
