import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  SYSTEM_ORGANISATION_ID,
  type AddPriceVersionDto,
  type ChangeKind,
  type CommandEnvelope,
  type CreateModelDefinitionDto,
  type DefinitionListSource,
  type DefinitionTokenizerView,
  type IdInput,
  type ModelDefinitionView,
  type Page,
  type PricePreviewView,
  type PreviewQueryDto,
  type TenantScope,
  type UpdateModelDefinitionDto,
} from '#libs/contracts';
import { AuditLog, newId } from '#libs/db';
import { InvalidMatchPattern, MatchPattern } from '#libs/match-pattern';
import { Clock } from '#libs/runtime';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewRow } from '#libs/tenancy';
import { toPage, type PageRequest } from '../common/page-request.js';
import { parseEffectiveFrom } from './effective-from.js';
import { ModelDefinitionEntity } from './model-definition.entity.js';
import { toModelDefinitionViews } from './model-definition-view.js';
import { ModelDefinitionsRepository, type VersionRows } from './model-definitions.repository.js';
import { ModelPriceTierEntity } from './model-price-tier.entity.js';
import { ModelPriceEntity } from './model-price.entity.js';
import { previewOf, versionInForce } from './price-preview.js';
import { normalisePriceVersion, type NormalisedTier } from './price-version.js';

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
    const tiers = normalisePriceVersion(input);
    const now = this.clock.now();
    const effectiveFrom = input.effectiveFrom === undefined ? now : parseEffectiveFrom(input.effectiveFrom);

    const definition = Object.assign(new ModelDefinitionEntity(), {
      id: newId('mdef'),
      organisationId: owner.organisationId,
      projectId: owner.projectId,
      name: input.name,
      matchPattern: input.matchPattern,
      tokenizer: input.tokenizer ?? DEFAULT_TOKENIZER,
      source: 'user' as const,
      priority: input.priority ?? 0,
      catalogueKey: null,
      lastUsedAt: null,
      createdAt: now,
      updatedAt: now,
    });
    const version = versionRows(definition.id, effectiveFrom, tiers);
    if ((await this.definitions.insertWithPrices(definition, version)) === 'name-taken') {
      throw new AppError(ErrorCode.Conflict, `a model definition named ${input.name} already exists in this organisation`, { field: 'name', name: input.name });
    }
    this.publishChange(definition, 'created');
    return toModelDefinitionViews({ definitions: [definition], ...version }, now)[0];
  }

  /**
   * PATCH: the definition's name, match pattern, tokenizer or priority; never its prices (a price
   * change is a new version). System definitions are read-only: a User definition overrides one.
   * Audited like a delete; the change commits with its audit entry.
   */
  async update(command: CommandEnvelope<UpdateModelDefinitionDto & IdInput>): Promise<ModelDefinitionView> {
    const { input } = command;
    const attempt = attemptOf(command, 'model_definition.updated', input.id, command.scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      if (input.matchPattern !== undefined) compileOrRefuse(input.matchPattern);
      return this.audit.transaction(async (manager) => {
        const found = await this.changeable(command, attempt, manager);
        const changed = Object.assign(found, {
          name: input.name ?? found.name,
          matchPattern: input.matchPattern ?? found.matchPattern,
          tokenizer: input.tokenizer ?? found.tokenizer,
          priority: input.priority ?? found.priority,
          updatedAt: this.clock.now(),
        });
        if ((await this.definitions.update(changed, manager)) === 'name-taken') {
          throw new AppError(ErrorCode.Conflict, `a model definition named ${changed.name} already exists in this organisation`, { field: 'name', name: changed.name });
        }
        await this.audit.record(attempt, manager);
        return changed;
      });
    });
    this.publishChange(row, 'updated');
    return this.get(command.scope, row.id);
  }

  /**
   * A price change: a new version effective from the given instant (default now). It must come
   * after every existing version and not lie in the past, so no call already priced would have been
   * priced differently: history never moves, and no version is ever rewritten.
   */
  async addVersion(command: CommandEnvelope<AddPriceVersionDto & IdInput>): Promise<ModelDefinitionView> {
    const { input } = command;
    const attempt = attemptOf(command, 'model_definition.version_added', input.id, command.scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const tiers = normalisePriceVersion(input);
      const now = this.clock.now();
      const effectiveFrom = input.effectiveFrom === undefined ? now : parseEffectiveFrom(input.effectiveFrom);
      if (effectiveFrom.getTime() < now.getTime() - PAST_TOLERANCE_MS) {
        throw AppError.validation([{ field: 'effectiveFrom', messages: ['a new price version cannot take effect in the past: calls already priced keep their price'] }]);
      }
      return this.audit.transaction(async (manager) => {
        const found = await this.changeable(command, attempt, manager);
        const latest = await this.definitions.latestVersionAt(found.id, manager);
        if (latest !== null && effectiveFrom.getTime() <= latest.getTime()) {
          throw new AppError(ErrorCode.Conflict, `model definition ${found.id} already has a version effective from ${latest.toISOString()}; a new version must take effect after it`, {
            field: 'effectiveFrom',
            latestEffectiveFrom: latest.toISOString(),
          });
        }
        if ((await this.definitions.insertVersion(versionRows(found.id, effectiveFrom, tiers), manager)) === 'version-exists') {
          throw new AppError(ErrorCode.Conflict, `model definition ${found.id} already has a version effective from ${effectiveFrom.toISOString()}`, { field: 'effectiveFrom' });
        }
        await this.audit.record(attempt, manager);
        return found;
      });
    });
    this.publishChange(row, 'updated');
    return this.get(command.scope, row.id);
  }

  async list(scope: TenantScope, page: PageRequest, source: DefinitionListSource = 'user'): Promise<Page<ModelDefinitionView>> {
    const rows = await this.definitions.page(scope, page, source);
    const now = this.clock.now();
    return toPage(rows.definitions, page.limit, (definitions) => toModelDefinitionViews({ ...rows, definitions }, now));
  }

  /** One definition the caller may read: its organisation's (by the tenancy rule) or a System one. */
  async get(scope: TenantScope, id: string): Promise<ModelDefinitionView> {
    const rows = await this.definitions.findVisibleWithPrices(scope, id);
    if (rows.definitions.length === 0) throw AppError.notFound('model definition', id);
    return toModelDefinitionViews(rows, this.clock.now())[0];
  }

  /** GET /admin/model-definitions/{id}/preview: the version in force at `at` (default now), per tier and usage type. */
  async preview(scope: TenantScope, input: PreviewQueryDto & IdInput): Promise<PricePreviewView> {
    const at = input.at === undefined ? this.clock.now() : parseEffectiveFrom(input.at);
    const view = await this.get(scope, input.id);
    const version = versionInForce(view.priceVersions, at);
    if (!version) {
      throw new AppError(ErrorCode.NotFound, `model definition ${input.id} has no price version in force at ${at.toISOString()}`, { id: input.id, at: at.toISOString() });
    }
    return previewOf(view.id, version);
  }

  /**
   * Deletes a row the caller may change (libs/tenancy): another project's row answers not_found
   * like an unknown id, an organisation-wide one seen by a project admin forbidden, a System one
   * forbidden. Every outcome is audited; a deletion commits with its entry.
   */
  async delete(command: CommandEnvelope<IdInput>): Promise<{ deleted: true }> {
    const { scope, input } = command;
    const attempt = attemptOf(command, 'model_definition.deleted', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, () =>
      this.audit.transaction(async (manager) => {
        const found = await this.changeable(command, attempt, manager);
        if (!(await this.definitions.deleteById(found.id, manager))) throw AppError.notFound('model definition', input.id);
        await this.audit.record(attempt, manager);
        return found;
      }),
    );
    this.publishChange(row, 'deleted');
    return { deleted: true };
  }

  async all(): Promise<ModelDefinitionView[]> {
    return toModelDefinitionViews(await this.definitions.all(), this.clock.now());
  }

  async tokenizers(): Promise<DefinitionTokenizerView[]> {
    return (await this.definitions.allWithoutPrices()).map((d) => ({
      id: d.id,
      organisationId: d.organisationId,
      projectId: d.projectId,
      matchPattern: d.matchPattern,
      tokenizer: d.tokenizer,
      source: d.source,
      priority: d.priority,
      updatedAt: d.updatedAt.toISOString(),
    }));
  }

  /** The row a command may change, or the refusal: unknown or hidden = not_found, System = forbidden, else the ownership rule. */
  private async changeable(command: CommandEnvelope<IdInput>, attempt: { projectId: string | null }, manager: Parameters<ModelDefinitionsRepository['deleteById']>[1]): Promise<ModelDefinitionEntity> {
    const { scope, input } = command;
    const found = await this.definitions.findInOrganisation(scope, input.id, manager);
    if (found === null) throw AppError.notFound('model definition', input.id);
    if (found.source === 'system' || found.organisationId === SYSTEM_ORGANISATION_ID) {
      throw new AppError(ErrorCode.Forbidden, `model definition ${input.id} is a System definition from the built-in catalogue and cannot be changed; create a User definition for the same model to override it`, {
        id: input.id,
        source: 'system',
      });
    }
    attempt.projectId = found.projectId;
    if (!mayRead(scope, found)) throw new HiddenRefusal(`model definition ${input.id} is outside the caller's project`, AppError.notFound('model definition', input.id));
    assertMayChange(scope, found, `model definition ${input.id}`);
    return found;
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

/** How far in the past a new version's effectiveFrom may lie: the request's own travel time, not a back-dating. */
export const PAST_TOLERANCE_MS = 60_000;

/** The rows of one price version: a tier row per tier, a price row per tier and usage type. */
export function versionRows(definitionId: string, effectiveFrom: Date, tiers: NormalisedTier[]): VersionRows {
  return {
    tiers: tiers.map((t) => Object.assign(new ModelPriceTierEntity(), { definitionId, effectiveFrom, name: t.name, isDefault: t.isDefault, priority: t.priority, conditions: t.conditions })),
    prices: tiers.flatMap((t) => t.prices.map(([usageType, price]) => Object.assign(new ModelPriceEntity(), { definitionId, effectiveFrom, tier: t.name, usageType, price }))),
  };
}

export function compileOrRefuse(matchPattern: string): MatchPattern {
  try {
    return MatchPattern.compile(matchPattern);
  } catch (err) {
    if (err instanceof InvalidMatchPattern) throw AppError.validation([{ field: 'matchPattern', messages: [err.reason] }]);
    throw err;
  }
}
