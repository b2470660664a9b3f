import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AdminUsersController } from './admin-users.controller';

/**
 * Admin routes over the other rooms (`/v1/admin/*`, role `admin`; anyone else gets a 404 from the
 * global guard). Accounts here; the IP allowlist, feeds, reports and provider keys join as their
 * rooms export what these routes need.
 */
@Module({
  imports: [AuthModule],
  controllers: [AdminUsersController],
})
export class AdminModule {}
