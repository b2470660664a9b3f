import { Body, Controller, Param, Patch } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AccountsService } from '../auth/accounts.service';
import { AuthenticatedUser } from '../auth/auth.types';
import { AdminOnly } from '../auth/decorators/admin.decorator';
import { CurrentUser } from '../auth/decorators/current-user.decorator';
import { UuidParamPipe } from '../common/validation/uuid-param.pipe';
import { AdminUserDto, UpdateUserDto } from './dto/update-user.dto';

@ApiTags('admin')
@AdminOnly()
@Controller({ path: 'admin/users', version: '1' })
export class AdminUsersController {
  constructor(private readonly accounts: AccountsService) {}

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateUser',
    summary: "Change an account's role, daily AI limit, or disable it",
    description: "A disabled account's tokens stop working at once, on every replica.",
  })
  @ApiParam({
    name: 'id',
    schema: { type: 'string', format: 'uuid', example: '0b6f1d1e-4c1a-4a57-9d0e-2f3c4b5a6d7e' },
    description: 'The account id.',
  })
  @ApiOkResponse({ type: AdminUserDto })
  @ApiBadRequestResponse({ description: 'Invalid id or body: problem+json with `errors: [{ field, message }]`.' })
  update(
    @CurrentUser() admin: AuthenticatedUser,
    @Param('id', UuidParamPipe) id: string,
    @Body() dto: UpdateUserDto,
  ): Promise<AdminUserDto> {
    return this.accounts.update(id, dto, admin.id);
  }
}
