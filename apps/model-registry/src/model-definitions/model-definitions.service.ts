import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  type ChangeKind,
  type CommandEnvelope,
  type IdInput,
  type CreateModelDefinitionDto,
  type ModelDefinitionView,
  type Page,
  type TenantScope,
} from '#libs/contracts';
import { AuditLog, newId } from '#libs/db';
import { Clock } from '#libs/runtime';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewRow } from '#libs/tenancy';
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
    private readonly audit: AuditLog,
    private readonly bus: BusClient,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates under the ownership rule (libs/tenancy ownerOfNewRow). A refused or failed create is
   * audited; a successful one too, just after it commits (retried, logged if it cannot be written).
   */
  async create(command: CommandEnvelope<CreateModelDefinitionDto>): Promise<ModelDefinitionView> {
    const attempt = attemptOf(command, 'model_definition.created', null, command.input.projectId ?? command.scope.projectId);
    const created = await audited(this.audit, attempt, () => this.insertNew(command));
    this.audit.recordAttempt({ ...attempt, projectId: created.projectId, targetId: created.id });
    return created;
  }

  private async insertNew(command: CommandEnvelope<CreateModelDefinitionDto>): Promise<ModelDefinitionView> {
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

  /**
   * Deletes a row the caller may change (libs/tenancy): another project's row answers not_found
   * like an unknown id, an organisation-wide one seen by a project admin forbidden. Every outcome
   * is audited; a deletion commits with its entry.
   */
  async delete(command: CommandEnvelope<IdInput>): Promise<{ deleted: true }> {
    const { scope, input } = command;
    const attempt = attemptOf(command, 'model_definition.deleted', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const found = await this.definitions.findInOrganisation(scope, input.id);
      if (found === null) throw AppError.notFound('model definition', input.id);
      attempt.projectId = found.projectId;
      if (!mayRead(scope, found)) throw new HiddenRefusal(`model definition ${input.id} is outside the caller's project`, AppError.notFound('model definition', input.id));
      assertMayChange(scope, found, `model definition ${input.id}`);
      await this.audit.transaction(async (manager) => {
        if (!(await this.definitions.deleteById(found.id, manager))) throw AppError.notFound('model definition', input.id);
        await this.audit.record(attempt, manager);
      });
      return found;
    });
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
