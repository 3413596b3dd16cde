import { Body, Controller, Delete, Get, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { CreateProviderModelDto, ProviderModelView, UpdateProviderModelDto } from '#libs/contracts';
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
  @ApiOperation({
    summary: 'Expose a model to clients under a name',
    description:
      'Routed to one or more targets (connection + upstream model id, weighted), with fallbacks, limits and default parameters. ' +
      'The first version\'s body (connectionId + upstreamModel) still creates a one-target model. Refused with validation_failed naming the field when a ' +
      'target\'s connection does not exist, contextWindow is not larger than maxInputTokens, or a fallback is unknown, out of reach or closes a cycle.',
  })
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

  @Patch(':id')
  @ApiOperation({
    summary: 'Change any field of a provider model',
    description: 'Send only the fields to change; null clears a limit or the display name. Validated as a whole again, audited, and live on every gateway replica within a second.',
  })
  @ApiOkResponse({ type: ProviderModelView })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UpdateProviderModelDto): Promise<ProviderModelView> {
    return this.bus.request('registry.v1.provider-models.update', envelopeFor(p, { id, patch: body }));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Remove a provider model (refused with conflict while another model falls back to it)' })
  @ApiOkResponse({ type: DeletedView })
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.bus.request('registry.v1.provider-models.delete', envelopeFor(p, { id }));
  }
}
