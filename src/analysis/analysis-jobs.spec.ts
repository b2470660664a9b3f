import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { DataSource } from 'typeorm';
import { CacheService } from '../cache/cache.service';
import type { AppConfig } from '../config/config.types';
import { SQLITE_MIGRATIONS } from '../database/migrations/sqlite';
import type { JobRunner } from '../jobs/job-queue';
import { MetricsService } from '../metrics/metrics.service';
import { UpstreamUnavailableError } from '../outbound-http/outbound-http.errors';
import { AiUsage } from '../quota/entities/ai-usage.entity';
import { QuotaService } from '../quota/quota.service';
import { RedisService } from '../redis/redis.service';
import type { ImageStore, StoredImage, StoredImageRef } from '../storage/image-store';
import { AnalysisAnswers } from './analysis-answers';
import { AnalysisIntake } from './analysis-intake';
import type { AnalysisOutcomes } from './analysis-outcomes';
import { AnalysisWorker, MAX_JOB_ATTEMPTS } from './analysis-worker';
import { Analysis } from './entities/analysis.entity';
import { ImageProcessor } from './image-processor';
import type { ModerationService } from './moderation/moderation.service';
import { NearDuplicateIndex } from './near-duplicate/near-duplicate.index';
import type { VisionAnswer, VisionProvider, VisionRequest } from './providers/vision-provider';
import { AnalysesRepository } from './repositories/analyses.repository';
import { ImageUpload } from './upload/image-upload';

/**
 * The analysis job's exactly-once effects over at-least-once delivery (docs/api.md, Image analysis), driven
 * through each interleaving on a real (in-memory SQLite) database: claims, leases, terminal
 * compare-and-sets and quota moves are SQL, so they are run, not mocked.
 */

const DAILY_LIMIT = 3;

class ScriptedVision implements VisionProvider {
  readonly name = 'openai';
  readonly model = 'gpt-test';
  readonly metered = true;
  calls = 0;
  answer: (request: VisionRequest) => Promise<VisionAnswer> = async () => ({
    result: { summary: 'A square.', tags: ['square'], details: {} },
    usage: { inputTokens: 100, outputTokens: 10, costUsd: 0.001 },
  });

  analyse(request: VisionRequest): Promise<VisionAnswer> {
    this.calls += 1;
    return this.answer(request);
  }
}

class MemoryImages implements ImageStore {
  readonly driver = 'memory';
  readonly objects = new Map<string, Buffer>();
  async put(ref: StoredImageRef, data: Buffer): Promise<boolean> {
    if (this.objects.has(key(ref))) return false;
    this.objects.set(key(ref), data);
    return true;
  }
  async get(ref: StoredImageRef): Promise<StoredImage | undefined> {
    const data = this.objects.get(key(ref));
    return data && { stream: Readable.from([data]), contentType: `image/${ref.format}`, size: data.length };
  }
  async exists(ref: StoredImageRef): Promise<boolean> {
    return this.objects.has(key(ref));
  }
  async delete(ref: StoredImageRef): Promise<void> {
    this.objects.delete(key(ref));
  }
}

/** Moderation that accepts every image (moderation has its own specs and e2e). */
const acceptAll = {
  moderate: async () => ({ decision: 'accept', categories: {}, provider: 'test' }),
} as unknown as ModerationService;

function key(ref: StoredImageRef): string {
  return `${ref.sha256}.${ref.format}`;
}

describe('analysis jobs: exactly-once effects', () => {
  let dataSource: DataSource;
  let images: Buffer[];
  let vision: ScriptedVision;
  let quota: QuotaService;
  let repository: AnalysesRepository;
  let intake: AnalysisIntake;
  let worker: AnalysisWorker;
  let answers: AnalysisAnswers;
  let outcomes: { succeeded: string[]; failed: string[] };
  let userId: string;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    dataSource = new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [Analysis, AiUsage],
      migrations: SQLITE_MIGRATIONS,
      migrationsRun: true,
    });
    await dataSource.initialize();
    images = await Promise.all(
      ['#ff0000', '#00ff00', '#0000ff', '#888888', '#123456', '#654321'].map((background) =>
        sharp({ create: { width: 64, height: 48, channels: 3, background } })
          .png()
          .toBuffer(),
      ),
    );
  });
  afterAll(() => dataSource.destroy());

  beforeEach(async () => {
    userId = randomUUID();
    await dataSource.query(`INSERT INTO "users" ("id", "email", "role") VALUES (?, ?, 'user')`, [
      userId,
      `${userId}@example.com`,
    ]);
    const config = new ConfigService<AppConfig, true>({
      redis: { keyPrefix: 'argus-unit:' },
      limits: { analysisCacheTtlMs: 3_600_000, aiDailyPerUser: DAILY_LIMIT },
      analysis: { cacheScope: 'global' },
    });
    vision = new ScriptedVision();
    const metrics = new MetricsService();
    const store = new MemoryImages();
    const runner: JobRunner = { kind: 'database', register: () => undefined, enqueue: () => Promise.resolve() };
    outcomes = { succeeded: [], failed: [] };
    const recorder = {
      succeeded: async (analysis: Analysis) => void outcomes.succeeded.push(analysis.id),
      failed: async (analysis: Analysis) => void outcomes.failed.push(analysis.id),
    } as unknown as AnalysisOutcomes;
    quota = new QuotaService(dataSource, config);
    repository = new AnalysesRepository(dataSource.getRepository(Analysis), dataSource);
    answers = new AnalysisAnswers(
      new CacheService(metrics, new RedisService(config)),
      repository,
      metrics,
      new NearDuplicateIndex(dataSource, config), // off: no NEAR_DUPLICATE_MAX_DISTANCE in this config
      vision,
      config,
    );
    const processor = new ImageProcessor({ maxInputPixels: 1_000_000, maxEdge: 64 });
    const nearDuplicates = new NearDuplicateIndex(dataSource, config);
    intake = new AnalysisIntake(
      repository,
      answers,
      processor,
      quota,
      recorder,
      runner,
      vision,
      store,
      nearDuplicates,
    );
    worker = new AnalysisWorker(repository, answers, quota, recorder, acceptAll, runner, vision, store);
  });

  const accept = (image: Buffer, forUser = userId) =>
    intake.accept(new ImageUpload(image), { userId: forUser, metadata: {} });
  const leaseFor = (ms: number) => new Date(Date.now() + ms);
  const usedToday = async (forUser = userId) => (await quota.usageToday(forUser)).analysesToday;
  const row = async (id: string) => (await repository.findById(id))!;

  /** Claims the job as `worker` and runs it to the end. */
  async function deliver(id: string, workerId: string): Promise<boolean> {
    const job = await repository.claim(id, workerId, leaseFor(60_000));
    if (!job) return false;
    await worker.perform(job, new AbortController().signal);
    return true;
  }

  it('reserves a unit at acceptance and charges it once when the job’s own call answers', async () => {
    const accepted = await accept(images[0]);
    expect(accepted.status).toBe('queued');
    expect(await usedToday()).toBe(1);
    expect(await quota.reservationState(accepted.id)).toBe('reserved');

    await deliver(accepted.id, 'w1');

    expect(await row(accepted.id)).toMatchObject({ status: 'succeeded', cached: false, inputTokens: 100 });
    expect(await quota.reservationState(accepted.id)).toBe('charged');
    expect(await usedToday()).toBe(1);
    expect(vision.calls).toBe(1);
    expect(outcomes.succeeded).toEqual([accepted.id]);
  });

  it('fail after reserve: the row fails with the problem, the unit is refunded once', async () => {
    vision.answer = () => Promise.reject(new UpstreamUnavailableError('openai', 500));
    const accepted = await accept(images[1]);

    await deliver(accepted.id, 'w1');

    const failed = await row(accepted.id);
    expect(failed).toMatchObject({ status: 'failed', result: null });
    expect(failed.error).toMatchObject({ status: 502, type: 'urn:argus:problem:upstream-error' });
    expect(await quota.reservationState(accepted.id)).toBe('refunded');
    expect(await usedToday()).toBe(0);
    // Refund twice: nothing more is given back.
    await expect(quota.refundReservation(accepted.id)).resolves.toBe(false);
    expect(await usedToday()).toBe(0);
    expect(outcomes.failed).toEqual([accepted.id]);
  });

  it('duplicate delivery: only one of two concurrent claims wins; a delivery after the end does nothing', async () => {
    const accepted = await accept(images[2]);

    const [first, second] = await Promise.all([deliver(accepted.id, 'w1'), deliver(accepted.id, 'w2')]);
    const late = await deliver(accepted.id, 'w3');

    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect(late).toBe(false);
    expect(vision.calls).toBe(1);
    expect(await usedToday()).toBe(1);
    expect(outcomes.succeeded).toEqual([accepted.id]);
  });

  it('crash after the call: the answer cached by the dead worker is finished by the next one, charged once, no second call', async () => {
    const accepted = await accept(images[3]);
    // Worker w1 claims, asks the model, its answer reaches the cache — and then w1 dies.
    const claimed = (await repository.claim(accepted.id, 'w1', leaseFor(-1)))!;
    const keys = answers.keysFor(claimed.sha256, claimed.prompt, claimed.userId);
    await answers.share(keys, async () => ({
      provider: 'openai',
      model: 'gpt-test',
      result: { summary: 'From w1.', tags: [], details: {} },
      usage: { inputTokens: 7, outputTokens: 3, costUsd: 0.0001 },
      image: {
        format: claimed.imageFormat,
        width: claimed.imageWidth,
        height: claimed.imageHeight,
        bytes: claimed.imageBytes,
      },
      producedBy: claimed.id,
    }));
    await quota.charge(accepted.id);

    // Its lease has expired (it was taken already expired): the reconciler's delivery reaches w2.
    await deliver(accepted.id, 'w2');

    expect(await row(accepted.id)).toMatchObject({
      status: 'succeeded',
      cached: false,
      workerId: 'w2',
      attempts: 2,
      result: { summary: 'From w1.' },
      inputTokens: 7,
    });
    expect(vision.calls).toBe(0);
    expect(await quota.reservationState(accepted.id)).toBe('charged');
    expect(await usedToday()).toBe(1);
  });

  it('a worker that lost its lease changes nothing: the row, the quota and the outcome are the new holder’s', async () => {
    const accepted = await accept(images[4]);
    const stale = (await repository.claim(accepted.id, 'w1', leaseFor(-1)))!;
    await deliver(accepted.id, 'w2');
    const callsBefore = vision.calls;

    // w1 wakes up and tries to finish (from the cache w2 filled): its compare-and-set fails.
    await worker.perform(stale, new AbortController().signal);

    expect(await row(accepted.id)).toMatchObject({ status: 'succeeded', workerId: 'w2', cached: false });
    expect(vision.calls).toBe(callsBefore);
    expect(await usedToday()).toBe(1);
    expect(outcomes.succeeded).toEqual([accepted.id]);
  });

  it('a job answered by another job’s call is cached and gets its unit back', async () => {
    const first = await accept(images[5]);
    const other = randomUUID();
    await dataSource.query(`INSERT INTO "users" ("id", "email", "role") VALUES (?, ?, 'user')`, [
      other,
      `${other}@example.com`,
    ]);
    const second = await accept(images[5], other);
    expect(second.status).toBe('queued');
    expect(await usedToday(other)).toBe(1);

    await deliver(first.id, 'w1');
    await deliver(second.id, 'w2');

    expect(await row(second.id)).toMatchObject({ status: 'succeeded', cached: true, inputTokens: 0 });
    expect(await quota.reservationState(second.id)).toBe('refunded');
    expect(await usedToday(other)).toBe(0);
    expect(vision.calls).toBe(1);
    // Accepted now, it is answered from the cache at once, for free.
    const third = await accept(images[5], other);
    expect(third).toMatchObject({ status: 'succeeded', cached: true });
    expect(await usedToday(other)).toBe(0);
  });

  it('a job handed back at shutdown keeps its reservation and is run once, later', async () => {
    const user = await newUser();
    const accepted = await accept(await distinctImage(600), user);
    await repository.claim(accepted.id, 'w1', leaseFor(60_000));
    await expect(repository.release(accepted.id, 'w1')).resolves.toBe(true);
    await expect(repository.release(accepted.id, 'w1')).resolves.toBe(false);

    expect(await row(accepted.id)).toMatchObject({ status: 'queued', leaseUntil: null, workerId: null });
    expect(await quota.reservationState(accepted.id)).toBe('reserved');
    await deliver(accepted.id, 'w2');
    expect(await row(accepted.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await usedToday(user)).toBe(1);
  });

  it('gives up a job claimed more than MAX_JOB_ATTEMPTS times, and refunds it', async () => {
    const user = await newUser();
    const accepted = await accept(images[1], user);
    for (let i = 0; i < MAX_JOB_ATTEMPTS; i++) {
      await repository.claim(accepted.id, `crashed-${i}`, leaseFor(-1));
    }

    await deliver(accepted.id, 'w-last');

    const failed = await row(accepted.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: MAX_JOB_ATTEMPTS + 1 });
    expect(failed.error).toMatchObject({ status: 500, type: 'urn:argus:problem:job-failed' });
    expect(await usedToday(user)).toBe(0);
    expect(vision.calls).toBe(0);
  });

  it('refuses at acceptance when the quota is spent and nothing identical is in flight; rides along when it is', async () => {
    const user = await newUser();
    for (let i = 0; i < DAILY_LIMIT; i++) await accept(await distinctImage(i), user);
    expect(await usedToday(user)).toBe(DAILY_LIMIT);

    await expect(accept(await distinctImage(100), user)).rejects.toMatchObject({ status: 429, code: 'quota-exceeded' });

    // Someone else's identical upload is in flight: this one is accepted without a unit.
    const shared = await distinctImage(200);
    const leader = await accept(shared, await newUser());
    const rider = await accept(shared, user);
    expect(rider.status).toBe('queued');
    expect(await quota.reservationState(rider.id)).toBeUndefined();
    await deliver(leader.id, 'w1');
    await deliver(rider.id, 'w2');
    expect(await row(rider.id)).toMatchObject({ status: 'succeeded', cached: true });
    expect(await usedToday(user)).toBe(DAILY_LIMIT);
  });

  it('a rider whose leader failed asks on its own account, and fails for its own quota', async () => {
    const user = await newUser();
    for (let i = 0; i < DAILY_LIMIT; i++) await accept(await distinctImage(300 + i), user);
    const shared = await distinctImage(400);
    const leader = await accept(shared, await newUser());
    const rider = await accept(shared, user);
    vision.answer = () => Promise.reject(new UpstreamUnavailableError('openai', 500));
    await deliver(leader.id, 'w1');
    vision.answer = new ScriptedVision().answer;

    await deliver(rider.id, 'w2');

    expect((await row(rider.id)).error).toMatchObject({ status: 429, type: 'urn:argus:problem:quota-exceeded' });
    expect(await usedToday(user)).toBe(DAILY_LIMIT);
  });

  it('deleting a queued job gives its unit back, once, and a late worker cannot charge it', async () => {
    const user = await newUser();
    const accepted = await accept(await distinctImage(500), user);
    const removed = await repository.deleteOwned(user, accepted.id, async () => undefined);
    expect(removed?.analysis.status).toBe('queued');
    await expect(quota.refundReservation(accepted.id)).resolves.toBe(true);
    await expect(quota.refundReservation(accepted.id)).resolves.toBe(false);
    await expect(quota.charge(accepted.id)).resolves.toBe(false);
    expect(await usedToday(user)).toBe(0);
    await expect(deliver(accepted.id, 'w1')).resolves.toBe(false);
  });

  async function newUser(): Promise<string> {
    const id = randomUUID();
    await dataSource.query(`INSERT INTO "users" ("id", "email", "role") VALUES (?, ?, 'user')`, [
      id,
      `${id}@example.com`,
    ]);
    return id;
  }

  function distinctImage(seed: number): Promise<Buffer> {
    return sharp({
      create: { width: 32, height: 24, channels: 3, background: { r: seed % 256, g: (seed >> 8) % 256, b: 77 } },
    })
      .png()
      .toBuffer();
  }
});
