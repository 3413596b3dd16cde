import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { MasterKeyRotationView, RotateMasterKeyDto } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';

/** The vault's own operations: forwarded over the bus to the credential-vault service. */
@ApiTags('vault')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/vault')
export class VaultController {
  constructor(private readonly bus: BusClient) {}

  @Post('rotate-master-key')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Rotate the vault master key without a restart',
    description:
      'Takes the new master key (re-read from VAULT_MASTER_KEY_FILE, where the operator put it first with the old ones after it; or generated, `generateKey: true`, in embedded mode) and re-wraps every data key under it in batches while calls go on. Resumable: run it again (or restart) to finish a run cut short. Organisation-wide admins only; audited (master_key.rotated).',
  })
  @ApiOkResponse({ type: MasterKeyRotationView })
  rotateMasterKey(@CurrentPrincipal() p: Principal, @Body() body: RotateMasterKeyDto): Promise<MasterKeyRotationView> {
    return this.bus.request('vault.v1.master-key.rotate', envelopeFor(p, body ?? {}));
  }
}
