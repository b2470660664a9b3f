import { Body, Controller, Get, Module, Param, ParseIntPipe, Post, Query } from '@nestjs/common';
import { IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import type { AuthenticatedUser } from '../../src/auth/auth.types';
import { CurrentUser } from '../../src/auth/decorators/current-user.decorator';
import { Public } from '../../src/common/decorators/public.decorator';
import { RateLimit } from '../../src/rate-limit/rate-limit.decorator';
import { RequestContext } from '../../src/common/context/request-context';

class EchoDto {
  @IsString()
  @MaxLength(20)
  name: string;

  @IsInt()
  @Min(1)
  @Max(10)
  count: number;
}

/**
 * Routes that exist only in the e2e suite, to drive the foundation from outside: an unexpected
 * throw, a slow answer, a parameterised route, and a validated body (all public).
 */
@Public()
@Controller({ path: 'probe', version: '1' })
class ProbeController {
  @Get('boom')
  boom(): never {
    throw new Error('SELECT password_hash FROM users -- /srv/argus/secret.ts');
  }

  @Get('slow')
  async slow(@Query('ms', ParseIntPipe) ms: number): Promise<{ waited: number }> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { waited: ms };
  }

  @Get('items/:id')
  item(@Param('id') id: string): { id: string; requestId?: string } {
    return { id, requestId: RequestContext.requestId() };
  }

  @Post('echo')
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }
}

/** A protected route counted per client IP and per user (the `analysis` scope), for the rate-limit suite. */
@RateLimit('analysis')
@Controller({ path: 'probe/me', version: '1' })
class UserProbeController {
  @Get()
  me(@CurrentUser() user: AuthenticatedUser): { userId: string } {
    return { userId: user.id };
  }
}

@Module({ controllers: [ProbeController, UserProbeController] })
export class ProbeModule {}
