import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckResult,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { SkipRateLimit } from '../rate-limit/rate-limit.decorator';
import { Public } from '../common/decorators/public.decorator';
import { RawBodyHttpException } from '../common/errors/raw-body.exception';
import { ShutdownState } from '../common/lifecycle/shutdown-state';
import { DataSource } from 'typeorm';
import { HealthDetailsService } from './health-details.service';

class LivenessDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';
}

@ApiTags('operations')
@Public()
@SkipRateLimit()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly shutdown: ShutdownState,
    private readonly details: HealthDetailsService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Once no migration is pending, none will be until the next deploy: stop asking. */
  private migrationsApplied = false;

  @Get('live')
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'Liveness: 200 while the process can serve; depends on nothing external',
    description: 'For a liveness probe: never asks the database, Redis or a provider.',
  })
  @ApiOkResponse({ type: LivenessDto, description: 'The process can serve.' })
  live(): LivenessDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck({ swaggerDocumentation: true, noCache: true })
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'Readiness: 503 when the database is unreachable or the app is stopping',
    description:
      'For a readiness probe: the database, pending migrations (DB_MIGRATIONS=off) and shutdown decide; Redis ' +
      'and provider keys are reported in `details` without failing it.',
  })
  ready(): Promise<HealthCheckResult> {
    return this.check();
  }

  @Get()
  @HealthCheck({ swaggerDocumentation: false, noCache: true })
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Same as /health/ready',
    description: 'The readiness answer, under the path load balancers probe by default.',
  })
  overall(): Promise<HealthCheckResult> {
    return this.check();
  }

  /** Database, pending migrations and shutdown state decide readiness; Redis and provider keys are only reported. */
  private async check(): Promise<HealthCheckResult> {
    const reported = await this.details.collect();
    try {
      const result = await this.health.check([
        () => this.lifecycle(),
        () => this.database.pingCheck('database', { timeout: 1500 }),
        () => this.migrations(),
      ]);
      return { ...result, info: { ...result.info, ...reported }, details: { ...result.details, ...reported } };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const body = error.getResponse() as HealthCheckResult;
      throw new RawBodyHttpException({ ...body, details: { ...body.details, ...reported } }, 503);
    }
  }

  /** With DB_MIGRATIONS=off a replica is unready until the migration Job has run them all. */
  private async migrations() {
    const indicator = this.indicators.check('migrations');
    if (!this.migrationsApplied) {
      this.migrationsApplied = await this.dataSource.showMigrations().then(
        (pending) => !pending,
        () => false,
      );
    }
    return this.migrationsApplied ? indicator.up() : indicator.down({ pending: true });
  }

  private lifecycle() {
    const indicator = this.indicators.check('lifecycle');
    return this.shutdown.isShuttingDown ? indicator.down({ state: 'shutting-down' }) : indicator.up();
  }
}
