import { Body, Controller, Delete, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { CreateModelDefinitionDto, ModelDefinitionView } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { DeletedView, ListQueryDto, PageOf } from './list-query.dto.js';

/** Model registry, definitions for cost: forwarded over the bus to the model-registry service. */
@ApiTags('model-definitions')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/model-definitions')
export class ModelDefinitionsController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @ApiOperation({ summary: 'Define how spans of matching models are priced (RE2 match pattern, prices per token)' })
  @ApiCreatedResponse({ type: ModelDefinitionView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateModelDefinitionDto): Promise<ModelDefinitionView> {
    return this.bus.request('registry.v1.model-definitions.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOkResponse({ type: PageOf(ModelDefinitionView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.bus.request('registry.v1.model-definitions.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor }));
  }

  @Get(':id')
  @ApiOkResponse({ type: ModelDefinitionView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ModelDefinitionView> {
    return this.bus.request('registry.v1.model-definitions.get', envelopeFor(p, { id }));
  }

  @Delete(':id')
  @ApiOkResponse({ type: DeletedView })
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.bus.request('registry.v1.model-definitions.delete', envelopeFor(p, { id }));
  }
}
