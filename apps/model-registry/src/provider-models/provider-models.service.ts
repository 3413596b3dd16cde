import { Injectable } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  type ChangeKind,
  type CommandEnvelope,
  type CreateProviderModelDto,
  type Page,
  type ProviderModelView,
  type TenantScope,
} from '#libs/contracts';
import { newId } from '#libs/db';
import { Clock } from '#libs/runtime';
import { assertMayChange, ownerOfNewRow } from '#libs/tenancy';
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
    private readonly bus: BusClient,
    private readonly clock: Clock,
  ) {}

  async create(command: CommandEnvelope<CreateProviderModelDto>): Promise<ProviderModelView> {
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

  async delete(scope: TenantScope, id: string): Promise<{ deleted: true }> {
    const row = await this.found(scope, id);
    assertMayChange(scope, row, `provider model ${id}`);
    if (!(await this.providerModels.deleteById(row.id))) throw AppError.notFound('provider model', id);
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
