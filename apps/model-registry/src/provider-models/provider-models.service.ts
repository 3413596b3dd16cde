import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  type ChangeKind,
  type CommandEnvelope,
  type IdInput,
  type CreateProviderModelDto,
  type Page,
  type ProviderModelView,
  type TenantScope,
} from '#libs/contracts';
import { AuditLog, newId } from '#libs/db';
import { Clock } from '#libs/runtime';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewRow } from '#libs/tenancy';
import { toPage, type PageRequest } from '../common/page-request.js';
import { ProviderModelEntity } from './provider-model.entity.js';
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
   * audited; a successful one too, just after it commits (retried, logged if it cannot be written).
   */
  async create(command: CommandEnvelope<CreateProviderModelDto>): Promise<ProviderModelView> {
    const attempt = attemptOf(command, 'provider_model.created', null, command.input.projectId ?? command.scope.projectId);
    const created = await audited(this.audit, attempt, () => this.insertNew(command));
    this.audit.recordAttempt({ ...attempt, projectId: created.projectId, targetId: created.id });
    return created;
  }

  private async insertNew(command: CommandEnvelope<CreateProviderModelDto>): Promise<ProviderModelView> {
    const { input } = command;
    const owner = ownerOfNewRow(command.scope, input.projectId);
    await this.assertConnectionUsable(command, input.connectionId, owner.projectId);

    const now = this.clock.now();
    const row = Object.assign(new ProviderModelEntity(), {
      id: newId('pm'),
      organisationId: owner.organisationId,
      projectId: owner.projectId,
      name: input.name,
      connectionId: input.connectionId,
      upstreamModel: input.upstreamModel,
      maxInputTokens: input.maxInputTokens ?? null,
      maxOutputTokens: input.maxOutputTokens ?? null,
      createdAt: now,
      updatedAt: now,
    });
    if ((await this.providerModels.insert(row)) === 'name-taken') {
      throw new AppError(ErrorCode.Conflict, `a provider model named ${input.name} already exists in this organisation`, { field: 'name', name: input.name });
    }
    this.publishChange(row, 'created');
    return toProviderModelView(row);
  }

  async list(scope: TenantScope, page: PageRequest): Promise<Page<ProviderModelView>> {
    return toPage(await this.providerModels.page(scope, page), page.limit, (rows) => rows.map(toProviderModelView));
  }

  async get(scope: TenantScope, id: string): Promise<ProviderModelView> {
    return toProviderModelView(await this.found(scope, id));
  }

  /**
   * Deletes a row the caller may change (libs/tenancy): another project's row answers not_found
   * like an unknown id, an organisation-wide one seen by a project admin forbidden. Every outcome
   * is audited; a deletion commits with its entry.
   */
  async delete(command: CommandEnvelope<IdInput>): Promise<{ deleted: true }> {
    const { scope, input } = command;
    const attempt = attemptOf(command, 'provider_model.deleted', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, async () => {
      const found = await this.providerModels.findInOrganisation(scope, input.id);
      if (found === null) throw AppError.notFound('provider model', input.id);
      attempt.projectId = found.projectId;
      if (!mayRead(scope, found)) throw new HiddenRefusal(`provider model ${input.id} is outside the caller's project`, AppError.notFound('provider model', input.id));
      assertMayChange(scope, found, `provider model ${input.id}`);
      await this.audit.transaction(async (manager) => {
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

  /**
   * The connection must exist for the caller, and a project's connection can only serve that
   * project's models: an organisation-wide model on it would route other projects' traffic
   * through credentials they cannot see.
   */
  private async assertConnectionUsable(command: CommandEnvelope<unknown>, connectionId: string, projectId: string | null): Promise<void> {
    const connection = await this.connections.find(command, connectionId);
    if (connection === null) {
      throw AppError.validation([{ field: 'connectionId', messages: [`connection ${connectionId} does not exist`] }]);
    }
    if (connection.projectId !== null && connection.projectId !== projectId) {
      throw AppError.validation([
        { field: 'connectionId', messages: [`connection ${connectionId} belongs to project ${connection.projectId}; only that project's models can use it`] },
      ]);
    }
  }

  private async found(scope: TenantScope, id: string): Promise<ProviderModelEntity> {
    const row = await this.providerModels.findById(scope, id);
    if (row === null) throw AppError.notFound('provider model', id);
    return row;
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
