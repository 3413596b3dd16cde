import { Body, Controller, Delete, Get, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { BusClient } from '#libs/bus';
import { CreateModelRewriteRuleDto, ModelRewriteRuleView, UpdateModelRewriteRuleDto } from '#libs/contracts';
import { AdminAuthGuard } from '../auth/admin-auth.guard.js';
import { CurrentPrincipal } from '../auth/current-principal.decorator.js';
import { envelopeFor, type Principal } from '../auth/principal.js';
import { DeletedView, ListQueryDto, PageOf } from './list-query.dto.js';

/** Model-name rewrite rules (002): forwarded over the bus to the model-registry service. */
@ApiTags('model-rewrite-rules')
@ApiBearerAuth()
@UseGuards(AdminAuthGuard)
@Controller('admin/model-rewrite-rules')
export class ModelRewriteRulesController {
  constructor(private readonly bus: BusClient) {}

  @Post()
  @ApiOperation({
    summary: 'Rewrite requested model names matching an RE2 pattern into another name',
    description:
      'Applied after exact provider-model names and slug/model, in position order; the first rule whose pattern matches the whole name wins, ' +
      'and its target ($1 ... the groups) is resolved as a provider-model name or slug/model.',
  })
  @ApiCreatedResponse({ type: ModelRewriteRuleView })
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateModelRewriteRuleDto): Promise<ModelRewriteRuleView> {
    return this.bus.request('registry.v1.model-rewrite-rules.create', envelopeFor(p, body));
  }

  @Get()
  @ApiOkResponse({ type: PageOf(ModelRewriteRuleView) })
  list(@CurrentPrincipal() p: Principal, @Query() query: ListQueryDto) {
    return this.bus.request('registry.v1.model-rewrite-rules.list', envelopeFor(p, { limit: query.limit, cursor: query.cursor }));
  }

  @Get(':id')
  @ApiOkResponse({ type: ModelRewriteRuleView })
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<ModelRewriteRuleView> {
    return this.bus.request('registry.v1.model-rewrite-rules.get', envelopeFor(p, { id }));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a rule\'s pattern, target or position' })
  @ApiOkResponse({ type: ModelRewriteRuleView })
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UpdateModelRewriteRuleDto): Promise<ModelRewriteRuleView> {
    return this.bus.request('registry.v1.model-rewrite-rules.update', envelopeFor(p, { id, patch: body }));
  }

  @Delete(':id')
  @ApiOkResponse({ type: DeletedView })
  remove(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.bus.request('registry.v1.model-rewrite-rules.delete', envelopeFor(p, { id }));
  }
}
