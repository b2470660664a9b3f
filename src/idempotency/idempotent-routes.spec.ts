import {
  CallHandler,
  Controller,
  ExecutionContext,
  INestApplication,
  Injectable,
  NestInterceptor,
  Post,
  UseInterceptors,
} from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { NextFunction, Request, Response } from 'express';
import { map, Observable } from 'rxjs';
import request from 'supertest';
import { ProblemDetailsFilter } from '../common/errors/problem-details.filter';
import { Claim, IDEMPOTENCY_STORE, IdempotencyStore, Reservation, StoredResponse } from './idempotency-store';
import { IdempotencyService } from './idempotency.service';
import { IdempotencyInterceptor, IdempotencyReplayInterceptor } from './idempotency.interceptor';
import { Idempotent } from './idempotent.decorator';
import { IdempotentRoutes } from './idempotent-routes';
import { ResponseSeal } from './response-seal';

/** Stands in for an upload interceptor: "parses" the file from a header, as multer leaves req.file. */
@Injectable()
class FakeUploadInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    req.file = { buffer: Buffer.from(String(req.headers['x-file'])) } as Express.Multer.File;
    return next.handle();
  }
}

/** Stands in for an interceptor that maps the handler's value to a status (the analysis replies). */
@Injectable()
class ReplyInterceptor implements NestInterceptor<{ status: number; body: object }, object> {
  intercept(context: ExecutionContext, next: CallHandler<{ status: number; body: object }>): Observable<object> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map(({ status, body }) => {
        res.status(status);
        return body;
      }),
    );
  }
}

let calls = 0;
const reply = () => ({ status: 202, body: { call: ++calls } });

@Controller('uploads')
class UploadsController {
  /** Decorators apply bottom-up: here the upload interceptor is listed first, so it runs first anyway. */
  @Post('idempotent-above')
  @Idempotent()
  @UseInterceptors(FakeUploadInterceptor, ReplyInterceptor)
  above(): { status: number; body: object } {
    return reply();
  }

  /**
   * Here Nest would run IdempotencyInterceptor first, before the upload is parsed, and a replay
   * would pass through ReplyInterceptor, but for IdempotentRoutes.
   */
  @Post('idempotent-below')
  @UseInterceptors(FakeUploadInterceptor, ReplyInterceptor)
  @Idempotent()
  below(): { status: number; body: object } {
    return reply();
  }
}

/** The store as a map: enough to see which request the interceptor thinks it has. */
class MapStore implements IdempotencyStore {
  readonly kind = 'database';
  private readonly entries = new Map<string, { fingerprint: string; token: string; response?: StoredResponse }>();
  private tokens = 0;

  async claim(userId: string, key: string, fingerprint: string): Promise<Claim> {
    const entry = this.entries.get(`${userId}:${key}`);
    if (!entry) {
      const reservation = { userId, key, fingerprint, token: String(++this.tokens), createdAt: new Date() };
      this.entries.set(`${userId}:${key}`, { fingerprint, token: reservation.token });
      return { kind: 'reserved', reservation };
    }
    if (entry.fingerprint !== fingerprint) return { kind: 'mismatch' };
    return entry.response ? { kind: 'replay', response: entry.response } : { kind: 'in-flight' };
  }

  async complete(reservation: Reservation, response: StoredResponse): Promise<boolean> {
    const entry = this.entries.get(`${reservation.userId}:${reservation.key}`);
    if (entry?.token !== reservation.token) return false;
    entry.response = response;
    return true;
  }

  async release(reservation: Reservation): Promise<void> {
    this.entries.delete(`${reservation.userId}:${reservation.key}`);
  }
}

describe('IdempotentRoutes: @Idempotent() works wherever it stands among the route interceptors', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule],
      controllers: [UploadsController],
      providers: [
        IdempotencyService,
        IdempotentRoutes,
        { provide: IDEMPOTENCY_STORE, useClass: MapStore },
        { provide: ResponseSeal, useValue: new ResponseSeal(['a-test-secret']) },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    // What the global auth guard leaves on the request.
    app.use((req: Request, _res: Response, next: NextFunction) => {
      Object.assign(req, { user: { id: 'user-1' } });
      next();
    });
    app.useGlobalFilters(new ProblemDetailsFilter());
    await app.init();
  });
  afterAll(() => app.close());

  it('lists the replay interceptor first and IdempotencyInterceptor last on both routes', () => {
    for (const handler of [UploadsController.prototype.above, UploadsController.prototype.below]) {
      expect(Reflect.getMetadata(INTERCEPTORS_METADATA, handler)).toEqual([
        IdempotencyReplayInterceptor,
        FakeUploadInterceptor,
        ReplyInterceptor,
        IdempotencyInterceptor,
      ]);
    }
  });

  it.each(['idempotent-above', 'idempotent-below'])(
    '%s: sees the parsed upload, and replays past the interceptor that maps the value',
    async (route) => {
      const post = (file: string) =>
        request(app.getHttpServer())
          .post(`/uploads/${route}`)
          .set('Idempotency-Key', `key-${route}`)
          .set('X-File', file);

      const first = await post('image-a').expect(202);
      const retry = await post('image-a').expect(202);
      const other = await post('image-b');

      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(other.status).toBe(422);
      expect(other.body.type).toMatch(/idempotency-key-reused$/);
    },
  );
});
