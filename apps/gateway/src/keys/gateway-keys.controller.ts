import { Body, Controller, Delete, Get, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CreatedGatewayKeyView, CreateGatewayKeyDto, GatewayKeyView, UpdateGatewayKeyDto } from '#libs/contracts';
import { ListQueryDto, PageOf } from '../admin/list-query.dto.js';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, scopeOf, type Principal } from '../auth/principal.js';
import { ApiKeysService } from './api-keys.service.js';

@ApiTags('gateway-keys')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/gateway-keys')
export class GatewayKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @ApiOperation({ summary: 'Create a gateway key; the key is in this response only' })
  @ApiCreatedResponse({ type: CreatedGatewayKeyView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateGatewayKeyDto): Promise<CreatedGatewayKeyView> {
    return this.keys.create(envelopeFor(p, body));
  }

  @Get()
  @ApiOkResponse({ type: PageOf(GatewayKeyView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.keys.list(scopeOf(p), query);
  }

  @Get(':id')
  @ApiOkResponse({ type: GatewayKeyView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<GatewayKeyView> {
    return this.keys.get(scopeOf(p), id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Edit a key (name, owner, allowed models, limits, expiry, budget); null clears a field; live on every replica within a second' })
  @ApiOkResponse({ type: GatewayKeyView })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UpdateGatewayKeyDto): Promise<GatewayKeyView> {
    return this.keys.update(envelopeFor(p, { id, patch: body }));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a key; refused on every replica within a second' })
  @ApiOkResponse({ type: GatewayKeyView })
  revoke(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<GatewayKeyView> {
    return this.keys.revoke(envelopeFor(p, { id }));
  }
}
