import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

// Argus's answer for the address (BENCH_BODY, captured from it), so every server returns the same JSON.
const answer: Record<string, unknown> = JSON.parse(
  process.env.BENCH_BODY ?? '{"ip":"8.8.8.8","verdict":"clean","score":0,"cached":true}',
) as Record<string, unknown>;

// (b) The framework alone: NestJS + platform-express, one controller, no guards, logs or metrics.
@Controller('v1/ip')
class PlainController {
  @Get(':address')
  lookup(@Param('address') address: string) {
    return { ...answer, ip: address };
  }
}

@Module({ controllers: [PlainController] })
class PlainModule {}

void (async () => {
  const app = await NestFactory.create(PlainModule, { logger: false });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.send?.('ready');
})();

// A normal exit on SIGTERM, so `--cpu-prof` (bench:stack) writes its profile.
process.once('SIGTERM', () => process.exit(0));
