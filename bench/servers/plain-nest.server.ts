import 'reflect-metadata';
import { Controller, Get, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

// (b) The framework alone: NestJS + platform-express, one controller, no guards, logs or metrics.
@Controller('v1/ip')
class PlainController {
  @Get(':address')
  lookup(@Param('address') address: string) {
    return { ip: address, verdict: 'clean', score: 0, cached: true };
  }
}

@Module({ controllers: [PlainController] })
class PlainModule {}

void (async () => {
  const app = await NestFactory.create(PlainModule, { logger: false });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
  process.send?.('ready');
})();
