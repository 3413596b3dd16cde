import { Body, Controller, Delete, Get, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import {
  AddPriceVersionDto,
  CreateModelDefinitionDto,
  ListModelDefinitionsDto,
  ModelDefinitionView,
  PricePreviewView,
  PreviewQueryDto,
  UpdateModelDefinitionDto,
} from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { DeletedView, PageOf } from './list-query.dto.js';

/** Model registry, definitions for cost: forwarded over the bus to the model-registry service. */
@ApiTags('model-definitions')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/model-definitions')
export class ModelDefinitionsController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @ApiOperation({ summary: 'Define how spans of matching models are priced (RE2 match pattern, tokenizer, prices per token or pricing tiers)' })
  @ApiCreatedResponse({ type: ModelDefinitionView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateModelDefinitionDto): Promise<ModelDefinitionView> {
    return this.bus.request('registry.v1.model-definitions.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOperation({ summary: 'List model definitions: your own (source=user, the default), the built-in catalogue (source=system), or both (source=all)' })
  @ApiOkResponse({ type: PageOf(ModelDefinitionView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListModelDefinitionsDto) {
    return this.bus.request('registry.v1.model-definitions.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor, source: query.source }));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One model definition with its price versions, tiers, the preview of the prices in force and when it last priced a call' })
  @ApiOkResponse({ type: ModelDefinitionView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ModelDefinitionView> {
    return this.bus.request('registry.v1.model-definitions.get', envelopeFor(p, { id }));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change the name, match pattern, tokenizer or priority (not prices: add a version). System definitions are read-only.' })
  @ApiOkResponse({ type: ModelDefinitionView })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UpdateModelDefinitionDto): Promise<ModelDefinitionView> {
    return this.bus.request('registry.v1.model-definitions.update', envelopeFor(p, { ...body, id }));
  }

  @Post(':id/versions')
  @ApiOperation({ summary: 'Change prices: add a price version effective from a date (default now, never in the past, after every other version); no version is ever rewritten' })
  @ApiCreatedResponse({ type: ModelDefinitionView })
  addVersion(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: AddPriceVersionDto): Promise<ModelDefinitionView> {
    return this.bus.request('registry.v1.model-definitions.add-version', envelopeFor(p, { ...body, id }));
  }

  @Get(':id/preview')
  @ApiOperation({ summary: 'Prices in force (now, or at `at`) per tier: per unit, per 1K and per 1M of every usage type, exact decimals' })
  @ApiOkResponse({ type: PricePreviewView })
  preview(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() query: PreviewQueryDto): Promise<PricePreviewView> {
    return this.bus.request('registry.v1.model-definitions.preview', envelopeFor(p, { ...query, id }));
  }

  @Delete(':id')
  @ApiOkResponse({ type: DeletedView })
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.bus.request('registry.v1.model-definitions.delete', envelopeFor(p, { id }));
  }
}
