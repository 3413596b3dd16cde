import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  type ChangeKind,
  type CommandEnvelope,
  type CreateModelDefinitionDto,
  type ModelDefinitionView,
  type Page,
  type TenantScope,
} from '#libs/contracts';
import { newId } from '#libs/db';
import { Clock } from '#libs/runtime';
import { assertMayChange, ownerOfNewRow } from '#libs/tenancy';
import { toPage, type PageRequest } from '../common/page-request.js';
import { parseEffectiveFrom } from './effective-from.js';
import { InvalidMatchPattern, MatchPattern } from '#libs/match-pattern';
import { ModelDefinitionEntity } from './model-definition.entity.js';
import { toModelDefinitionViews } from './model-definition-view.js';
import { ModelDefinitionsRepository } from './model-definitions.repository.js';
import { ModelPriceEntity } from './model-price.entity.js';
import { normalisePrices } from './price-decimal.js';

export const DEFAULT_TOKENIZER = 'o200k_base';

@Injectable()
export class ModelDefinitionsService {
  constructor(
    private readonly definitions: ModelDefinitionsRepository,
    private readonly bus: BusClient,
    private readonly clock: Clock,
  ) {}

  async create(command: CommandEnvelope<CreateModelDefinitionDto>): Promise<ModelDefinitionView> {
    const { input } = command;
    const owner = ownerOfNewRow(command.scope, input.projectId);
    compileOrRefuse(input.matchPattern);
    const prices = normalisePrices(input.prices);
    const now = this.clock.now();
    const effectiveFrom = input.effectiveFrom === undefined ? now : parseEffectiveFrom(input.effectiveFrom);

    const definition = Object.assign(new ModelDefinitionEntity(), {
      id: newId('mdef'),
      organisationId: owner.organisationId,
      projectId: owner.projectId,
      name: input.name,
      matchPattern: input.matchPattern,
      tokenizer: input.tokenizer ?? DEFAULT_TOKENIZER,
      createdAt: now,
      updatedAt: now,
    });
    const priceRows = prices.map(([usageType, price]) =>
      Object.assign(new ModelPriceEntity(), { definitionId: definition.id, effectiveFrom, usageType, price }),
    );
    if ((await this.definitions.insertWithPrices(definition, priceRows)) === 'name-taken') {
      throw new AppError(ErrorCode.Conflict, `a model definition named ${input.name} already exists in this organisation`, { field: 'name', name: input.name });
    }
    this.publishChange(definition, 'created');
    return toModelDefinitionViews([definition], priceRows)[0];
  }

  async list(scope: TenantScope, page: PageRequest): Promise<Page<ModelDefinitionView>> {
    const { definitions, prices } = await this.definitions.page(scope, page);
    return toPage(definitions, page.limit, (rows) => toModelDefinitionViews(rows, prices));
  }

  async get(scope: TenantScope, id: string): Promise<ModelDefinitionView> {
    const { definitions, prices } = await this.definitions.findByIdWithPrices(scope, id);
    if (definitions.length === 0) throw AppError.notFound('model definition', id);
    return toModelDefinitionViews(definitions, prices)[0];
  }

  async delete(scope: TenantScope, id: string): Promise<{ deleted: true }> {
    const row = await this.definitions.findById(scope, id);
    if (row === null) throw AppError.notFound('model definition', id);
    assertMayChange(scope, row, `model definition ${id}`);
    if (!(await this.definitions.deleteById(row.id))) throw AppError.notFound('model definition', id);
    this.publishChange(row, 'deleted');
    return { deleted: true };
  }

  async all(): Promise<ModelDefinitionView[]> {
    const { definitions, prices } = await this.definitions.all();
    return toModelDefinitionViews(definitions, prices);
  }

  private publishChange(row: ModelDefinitionEntity, change: ChangeKind): void {
    this.bus.publishAfterCommit('registry.v1.events.model-definition-changed', {
      id: row.id,
      scope: { organisationId: row.organisationId, projectId: row.projectId },
      change,
      at: this.clock.now().toISOString(),
    });
  }
}

function compileOrRefuse(matchPattern: string): MatchPattern {
  try {
    return MatchPattern.compile(matchPattern);
  } catch (err) {
    if (err instanceof InvalidMatchPattern) throw AppError.validation([{ field: 'matchPattern', messages: [err.reason] }]);
    throw err;
  }
}
