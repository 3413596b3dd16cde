import { Body, Controller, Delete, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { CreateProviderModelDto, ProviderModelView } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { DeletedView, ListQueryDto, PageOf } from './list-query.dto.js';

/** Model registry, routing entries: forwarded over the bus to the model-registry service. */
@ApiTags('provider-models')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/provider-models')
export class ProviderModelsController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @ApiOperation({ summary: 'Expose a model to clients under a name, routed to a connection and upstream model id' })
  @ApiCreatedResponse({ type: ProviderModelView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateProviderModelDto): Promise<ProviderModelView> {
    return this.bus.request('registry.v1.provider-models.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOkResponse({ type: PageOf(ProviderModelView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.bus.request('registry.v1.provider-models.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor }));
  }

  @Get(':id')
  @ApiOkResponse({ type: ProviderModelView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ProviderModelView> {
    return this.bus.request('registry.v1.provider-models.get', envelopeFor(p, { id }));
  }

  @Delete(':id')
  @ApiOkResponse({ type: DeletedView })
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.bus.request('registry.v1.provider-models.delete', envelopeFor(p, { id }));
  }
}
