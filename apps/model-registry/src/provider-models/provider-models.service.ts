import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  type ChangeKind,
  type CommandEnvelope,
  type CreateProviderModelDto,
  type ManagedByInput,
  type FieldError,
  type IdInput,
  type Page,
  type ProviderModelView,
  type TenantScope,
  type UpdateProviderModelInput,
} from '#libs/contracts';
import { AuditLog, newId } from '#libs/db';
import { Clock } from '#libs/runtime';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewRow } from '#libs/tenancy';
import type { EntityManager } from 'typeorm';
import { toPage, type PageRequest } from '../common/page-request.js';
import { ProviderModelEntity, type ProviderModelTarget } from './provider-model.entity.js';
import { fallbackProblems, limitProblems, normalisedTargets, targetsOfCreate } from './provider-model-rules.js';
import { toProviderModelView } from './provider-model-view.js';
import { ProviderModelsRepository } from './provider-models.repository.js';
import { VaultConnections } from './vault-connections.js';

@Injectable()
export class ProviderModelsService {
  constructor(
    private readonly providerModels: ProviderModelsRepository,
    private readonly connections: VaultConnections,
    private readonly audit: AuditLog,
    private readonly bus: BusClient,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates under the ownership rule (libs/tenancy ownerOfNewRow). A refused or failed create is
   * audited; a successful one commits with its audit entry.
   */
  async create(command: CommandEnvelope<CreateProviderModelDto & ManagedByInput>): Promise<ProviderModelView> {
    const attempt = attemptOf(command, 'provider_model.created', null, command.input.projectId ?? command.scope.projectId);
    const created = await audited(this.audit, attempt, () => this.insertNew(command, attempt));
    this.publishChange(created, 'created');
    return toProviderModelView(created);
  }

  private async insertNew(command: CommandEnvelope<CreateProviderModelDto & ManagedByInput>, attempt: ReturnType<typeof attemptOf>): Promise<ProviderModelEntity> {
    const { input } = command;
    const owner = ownerOfNewRow(command.scope, input.projectId);
    const targets = targetsOfCreate(input);
    if (!Array.isArray(targets)) throw AppError.validation([targets]);
    const now = this.clock.now();
    const row = Object.assign(new ProviderModelEntity(), {
      id: newId('pm'),
      organisationId: owner.organisationId,
      projectId: owner.projectId,
      name: input.name,
      displayName: input.displayName ?? null,
      kind: input.kind ?? 'chat',
      targets,
      fallbacks: input.fallbacks ?? [],
      failoverByDefault: input.failoverByDefault ?? false,
      upstreamStreams: input.upstreamStreams ?? true,
      multimodal: input.multimodal ?? false,
      stages: input.stages ?? [],
      status: input.status ?? 'active',
      contextWindow: input.contextWindow ?? null,
      maxInputTokens: input.maxInputTokens ?? null,
      maxOutputTokens: input.maxOutputTokens ?? null,
      requestsPerMinute: input.requestsPerMinute ?? null,
      tokensPerMinute: input.tokensPerMinute ?? null,
      defaultParameters: input.defaultParameters ?? {},
      managedBy: input.managedBy ?? null,
      createdAt: now,
      updatedAt: now,
      lastUsedAt: null,
    } satisfies ProviderModelEntity);
    const limits = limitProblems(row);
    if (limits.length > 0) throw AppError.validation(limits);
    await this.assertTargetsUsable(command, row.targets, row.projectId);
    await this.audit.transaction(async (manager) => {
      await this.assertFallbacksValid(row, manager);
      if ((await this.providerModels.insert(row, manager)) === 'name-taken') throw nameTaken(row.name);
      await this.audit.record({ ...attempt, projectId: row.projectId, targetId: row.id }, manager);
    });
    return row;
  }

  /**
   * PATCH: any field, under the ownership rule; the whole changed model is validated again (limits,
   * targets' connections, fallbacks), committed with its audit entry, and announced to the gateways.
   */
  async update(command: CommandEnvelope<UpdateProviderModelInput>): Promise<ProviderModelView> {
    const { scope, input } = command;
    const attempt = attemptOf(command, 'provider_model.updated', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const found = await this.changeable(scope, input.id, attempt);
      const next = this.patched(found, input.patch);
      if (input.managedBy !== undefined) next.managedBy = input.managedBy;
      const limits = limitProblems(next);
      if (limits.length > 0) throw AppError.validation(limits);
      if (input.patch.targets !== undefined) await this.assertTargetsUsable(command, next.targets, next.projectId);
      await this.audit.transaction(async (manager) => {
        await this.assertFallbacksValid(next, manager, found.name);
        if ((await this.providerModels.update(next, manager)) === 'name-taken') throw nameTaken(next.name);
        await this.audit.record(attempt, manager);
      });
      return next;
    });
    this.publishChange(row, 'updated');
    return toProviderModelView(row);
  }

  async list(scope: TenantScope, page: PageRequest): Promise<Page<ProviderModelView>> {
    return toPage(await this.providerModels.page(scope, page), page.limit, (rows) => rows.map(toProviderModelView));
  }

  async get(scope: TenantScope, id: string): Promise<ProviderModelView> {
    const row = await this.providerModels.findById(scope, id);
    if (row === null) throw AppError.notFound('provider model', id);
    return toProviderModelView(row);
  }

  /**
   * Deletes a row the caller may change (libs/tenancy): another project's row answers not_found
   * like an unknown id, an organisation-wide one seen by a project admin forbidden. A model that
   * others fall back to is kept (conflict naming them). Every outcome is audited; a deletion commits with its entry.
   */
  async delete(command: CommandEnvelope<IdInput>): Promise<{ deleted: true }> {
    const { scope, input } = command;
    const attempt = attemptOf(command, 'provider_model.deleted', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const found = await this.changeable(scope, input.id, attempt);
      await this.audit.transaction(async (manager) => {
        await this.providerModels.lockOrganisation(found.organisationId, manager);
        const referrers = (await this.providerModels.inOrganisation(found.organisationId, manager)).filter((m) => m.fallbacks.includes(found.name));
        if (referrers.length > 0) throw referencedBy(found.name, referrers);
        if (!(await this.providerModels.deleteById(found.id, manager))) throw AppError.notFound('provider model', input.id);
        await this.audit.record(attempt, manager);
      });
      return found;
    });
    this.publishChange(row, 'deleted');
    return { deleted: true };
  }

  async all(): Promise<ProviderModelView[]> {
    return (await this.providerModels.all()).map(toProviderModelView);
  }

  /** The row the caller may change, or the refusal the ownership rule gives (the attempt learns the row's project). */
  private async changeable(scope: TenantScope, id: string, attempt: { projectId: string | null }): Promise<ProviderModelEntity> {
    const found = await this.providerModels.findInOrganisation(scope, id);
    if (found === null) throw AppError.notFound('provider model', id);
    attempt.projectId = found.projectId;
    if (!mayRead(scope, found)) throw new HiddenRefusal(`provider model ${id} is outside the caller's project`, AppError.notFound('provider model', id));
    assertMayChange(scope, found, `provider model ${id}`);
    return found;
  }

  /** The row with the patch applied: undefined leaves a field, null clears a nullable one. */
  private patched(row: ProviderModelEntity, patch: UpdateProviderModelInput['patch']): ProviderModelEntity {
    const next = Object.assign(new ProviderModelEntity(), row);
    const keep = <K extends keyof ProviderModelEntity>(key: K, value: ProviderModelEntity[K] | undefined): void => {
      if (value !== undefined) next[key] = value;
    };
    keep('name', patch.name);
    keep('displayName', patch.displayName);
    keep('kind', patch.kind);
    keep('targets', patch.targets === undefined ? undefined : normalisedTargets(patch.targets));
    keep('fallbacks', patch.fallbacks);
    keep('failoverByDefault', patch.failoverByDefault);
    keep('upstreamStreams', patch.upstreamStreams);
    keep('multimodal', patch.multimodal);
    keep('stages', patch.stages);
    keep('status', patch.status);
    keep('contextWindow', patch.contextWindow);
    keep('maxInputTokens', patch.maxInputTokens);
    keep('maxOutputTokens', patch.maxOutputTokens);
    keep('requestsPerMinute', patch.requestsPerMinute);
    keep('tokensPerMinute', patch.tokensPerMinute);
    keep('defaultParameters', patch.defaultParameters);
    next.updatedAt = this.clock.now();
    return next;
  }

  /**
   * Every target's connection must exist for the caller, and a project's connection can only serve
   * that project's models: an organisation-wide model on it would route other projects' traffic
   * through credentials they cannot see.
   */
  private async assertTargetsUsable(command: CommandEnvelope<unknown>, targets: readonly ProviderModelTarget[], projectId: string | null): Promise<void> {
    const problems: FieldError[] = [];
    const checked = await Promise.all([...new Set(targets.map((t) => t.connectionId))].map(async (id) => ({ id, connection: await this.connections.find(command, id) })));
    const byId = new Map(checked.map((c) => [c.id, c.connection]));
    targets.forEach((t, i) => {
      const connection = byId.get(t.connectionId);
      if (!connection) problems.push({ field: `targets.${i}.connectionId`, messages: [`connection ${t.connectionId} does not exist`] });
      else if (connection.projectId !== null && connection.projectId !== projectId) {
        problems.push({ field: `targets.${i}.connectionId`, messages: [`connection ${t.connectionId} belongs to project ${connection.projectId}; only that project's models can use it`] });
      }
    });
    // The one-target form names its field as it was sent.
    if (problems.length > 0 && targets.length === 1 && (command.input as { connectionId?: unknown }).connectionId !== undefined) problems[0]!.field = 'connectionId';
    if (problems.length > 0) throw AppError.validation(problems);
  }

  /**
   * Fallbacks exist in the model's reach and form no cycle, checked under the organisation's lock.
   * A renamed model keeps the fallbacks that name it valid only if none do (they would dangle).
   */
  private async assertFallbacksValid(row: ProviderModelEntity, manager: EntityManager, previousName?: string): Promise<void> {
    await this.providerModels.lockOrganisation(row.organisationId, manager);
    const others = (await this.providerModels.inOrganisation(row.organisationId, manager)).filter((m) => m.id !== row.id);
    if (previousName !== undefined && previousName !== row.name) {
      const referrers = others.filter((m) => m.fallbacks.includes(previousName));
      if (referrers.length > 0) throw referencedBy(previousName, referrers);
    }
    if (row.fallbacks.length === 0) return;
    const problems = fallbackProblems(row, others);
    if (problems.length > 0) throw AppError.validation(problems);
  }

  private publishChange(row: ProviderModelEntity, change: ChangeKind): void {
    this.bus.publishAfterCommit('registry.v1.events.provider-model-changed', {
      id: row.id,
      scope: { organisationId: row.organisationId, projectId: row.projectId },
      change,
      at: this.clock.now().toISOString(),
    });
  }
}

function nameTaken(name: string): AppError {
  return new AppError(ErrorCode.Conflict, `a provider model named ${name} already exists in this organisation`, { field: 'name', name });
}

function referencedBy(name: string, referrers: ProviderModelEntity[]): AppError {
  const names = referrers.map((m) => m.name);
  return new AppError(ErrorCode.Conflict, `provider model ${name} is a fallback of ${names.join(', ')}; change their fallbacks first`, { field: 'fallbacks', referencedBy: names });
}
