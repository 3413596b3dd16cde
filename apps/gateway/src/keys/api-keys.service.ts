import { Inject, Injectable, Logger } from '@nestjs/common';
import { BusClient } from '#libs/bus';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import {
  AppError,
  ErrorCode,
  type CommandEnvelope,
  type CreatedGatewayKeyView,
  type CreateGatewayKeyDto,
  type GatewayKeyView,
  type IdInput,
  type ListInput,
  type Page,
  type TenantScope,
  type UpdateGatewayKeyDto,
} from '#libs/contracts';
import { AuditLog, newId } from '#libs/db';
import { formatDecimal, parseDecimal } from '#libs/money';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewKey, PRIVATE_TO_PROJECT, type AuditEntry } from '#libs/tenancy';
import { BUDGET_CURRENCY } from '../budgets/budget-periods.js';
import { KeySpendLedger } from '../budgets/key-spend-ledger.js';
import { ApiKeyEntity, type StoredKeyBudget, type StoredKeyOwner } from './api-key.entity.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { displayPrefix, generateKey, hashKey } from './key-material.js';

export interface BootstrapResult {
  /** Set only when a key was generated now: the one time it can be shown. */
  generatedKey?: string;
  keyId?: string;
}

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);

  constructor(
    private readonly repo: ApiKeysRepository,
    private readonly audit: AuditLog,
    private readonly bus: BusClient,
    private readonly spend: KeySpendLedger,
    @Inject(APP_CONFIG) private readonly config: Readonly<AppConfig>,
  ) {}

  /**
   * Mints a key under the ownership rule (libs/tenancy ownerOfNewKey): a project admin gets keys
   * of its own project only, client or admin; only an organisation-wide admin mints
   * organisation-wide keys or keys of any project. Every outcome is audited.
   */
  async create(command: CommandEnvelope<CreateGatewayKeyDto>): Promise<CreatedGatewayKeyView> {
    const { scope, input } = command;
    const attempt: AuditEntry = attemptOf(command, 'gateway_key.created', null, input.projectId ?? scope.projectId);
    return audited(this.audit, attempt, async () => {
      const owner = ownerOfNewKey(scope, { projectId: input.projectId });
      const key = generateKey();
      const entity = this.entity(owner.organisationId, owner.projectId, input.name, input.role ?? 'client', key);
      entity.requestsPerMinute = input.requestsPerMinute ?? null;
      entity.tokensPerMinute = input.tokensPerMinute ?? null;
      entity.expiresAt = input.expiresAt !== undefined ? new Date(input.expiresAt) : null;
      entity.allowedModels = input.allowedModels ?? null;
      entity.cacheTtlSeconds = input.cacheTtlSeconds ?? null;
      entity.owner = input.owner ? storedOwner(input.owner) : null;
      entity.budget = input.budget ? storedBudget(input.budget) : null;
      await this.repo.transaction(async (manager) => {
        await this.repo.insert(entity, manager);
        await this.audit.record({ ...attempt, projectId: entity.projectId, targetId: entity.id }, manager);
      });
      this.changed(entity, 'created');
      return { ...this.view(entity), key };
    });
  }

  async list(scope: TenantScope, input: ListInput): Promise<Page<GatewayKeyView>> {
    const limit = Math.min(Math.max(input.limit ?? 50, 1), 200);
    const after = input.cursor ? decodeCursor(input.cursor) : undefined;
    const rows = await this.repo.list(scope, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((e) => this.view(e)), nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  async get(scope: TenantScope, id: string): Promise<GatewayKeyView> {
    const found = await this.repo.findInScope(scope, id);
    if (!found) throw AppError.notFound('gateway key', id);
    return this.view(found);
  }

  /**
   * Revokes a key the caller may change; a key it cannot even list answers not_found like an
   * unknown id (and is audited as denied). Every outcome is audited.
   */
  async revoke(command: CommandEnvelope<IdInput>): Promise<GatewayKeyView> {
    const { scope, input } = command;
    const attempt: AuditEntry = attemptOf(command, 'gateway_key.revoked', input.id, scope.projectId);
    const found = await audited(this.audit, attempt, async () => {
      const key = await this.changeableKey(scope, input.id, attempt);
      await this.repo.transaction(async (manager) => {
        await this.repo.revoke(key, new Date(), manager);
        await this.audit.record(attempt, manager);
      });
      return key;
    });
    this.changed(found, 'updated');
    return this.view(found);
  }

  /**
   * Edits a key the caller may change (the same visibility and ownership rule as revoke): each
   * field given replaces the stored one, null clears it. Every replica reloads the key on the
   * change event, so the edit is live everywhere within a second. Every outcome is audited.
   */
  async update(command: CommandEnvelope<IdInput & { patch: UpdateGatewayKeyDto }>): Promise<GatewayKeyView> {
    const { scope, input } = command;
    const attempt: AuditEntry = attemptOf(command, 'gateway_key.updated', input.id, scope.projectId);
    const updated = await audited(this.audit, attempt, async () => {
      const key = await this.changeableKey(scope, input.id, attempt);
      if (key.revokedAt) throw new AppError(ErrorCode.Conflict, `gateway key ${input.id} is revoked; a revoked key cannot be edited`);
      const patch = input.patch;
      const changes: Partial<ApiKeyEntity> = {};
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.owner !== undefined) changes.owner = patch.owner ? storedOwner(patch.owner) : null;
      if (patch.allowedModels !== undefined) changes.allowedModels = patch.allowedModels;
      if (patch.requestsPerMinute !== undefined) changes.requestsPerMinute = patch.requestsPerMinute;
      if (patch.tokensPerMinute !== undefined) changes.tokensPerMinute = patch.tokensPerMinute;
      if (patch.expiresAt !== undefined) changes.expiresAt = patch.expiresAt === null ? null : new Date(patch.expiresAt);
      if (patch.budget !== undefined) changes.budget = patch.budget ? storedBudget(patch.budget) : null;
      if (patch.cacheTtlSeconds !== undefined) changes.cacheTtlSeconds = patch.cacheTtlSeconds;
      Object.assign(key, changes);
      await this.repo.transaction(async (manager) => {
        await this.repo.update(key, changes, manager);
        await this.audit.record(attempt, manager);
      });
      return key;
    });
    this.changed(updated, 'updated');
    return this.view(updated);
  }

  /**
   * On first start an organisation has no admin key: create one (or adopt ADMIN_BOOTSTRAP_KEY)
   * so the operator can reach /admin. Only its hash is stored.
   */
  async ensureBootstrapAdminKey(): Promise<BootstrapResult> {
    const organisationId = this.config.organisationId;
    const provided = this.config.adminBootstrapKey;
    const key = provided ?? generateKey();
    const entity = this.entity(organisationId, null, 'bootstrap-admin', 'admin', key);
    const created = await this.repo.withBootstrapLock(async (manager) => {
      if (await this.repo.hasActiveAdmin(organisationId, manager)) return false;
      await this.repo.insert(entity, manager);
      return true;
    });
    if (!created) return {};
    this.changed(entity, 'created');
    this.logger.log(`created the bootstrap admin key ${entity.prefix}… (${entity.id})`);
    return provided ? { keyId: entity.id } : { generatedKey: key, keyId: entity.id };
  }

  /**
   * The key a revoke or an edit acts on: not_found for an unknown id, and for a key the caller
   * cannot even list (audited as denied); forbidden when it may see but not change it. Names the
   * key's project in the attempt's audit entry once it is found.
   */
  private async changeableKey(scope: TenantScope, id: string, attempt: AuditEntry): Promise<ApiKeyEntity> {
    const key = await this.repo.findInOrganisation(scope, id);
    if (!key) throw AppError.notFound('gateway key', id);
    attempt.projectId = key.projectId;
    if (!mayRead(scope, key, PRIVATE_TO_PROJECT)) {
      throw new HiddenRefusal(`gateway key ${id} is outside the caller's project`, AppError.notFound('gateway key', id));
    }
    assertMayChange(scope, key, `gateway key ${id}`);
    return key;
  }

  private entity(organisationId: string, projectId: string | null, name: string, role: ApiKeyEntity['role'], key: string): ApiKeyEntity {
    const e = new ApiKeyEntity();
    e.id = newId('key');
    e.organisationId = organisationId;
    e.projectId = projectId;
    e.name = name;
    e.role = role;
    e.prefix = displayPrefix(key);
    e.keyHash = hashKey(key);
    e.createdAt = new Date();
    e.revokedAt = null;
    e.requestsPerMinute = null;
    e.tokensPerMinute = null;
    e.expiresAt = null;
    e.allowedModels = null;
    e.cacheTtlSeconds = null;
    e.owner = null;
    e.budget = null;
    return e;
  }

  /** The view, with what a budgeted key spent in its current period as this replica knows it. */
  private view(e: ApiKeyEntity): GatewayKeyView {
    return toView(e, (k) => (k.budget ? formatDecimal(this.spend.spent(k.id, { amount: parseDecimal(k.budget.amount), period: k.budget.period, mode: k.budget.mode })) : null));
  }

  private changed(e: ApiKeyEntity, change: 'created' | 'updated'): void {
    this.bus.publishAfterCommit('gateway.v1.events.gateway-key-changed', {
      id: e.id,
      scope: { organisationId: e.organisationId, projectId: e.projectId },
      change,
      at: new Date().toISOString(),
    });
  }
}

function toView(e: ApiKeyEntity, spent: (e: ApiKeyEntity) => string | null = () => null): GatewayKeyView {
  return {
    id: e.id,
    organisationId: e.organisationId,
    projectId: e.projectId,
    name: e.name,
    role: e.role,
    prefix: e.prefix,
    requestsPerMinute: e.requestsPerMinute,
    tokensPerMinute: e.tokensPerMinute,
    expiresAt: e.expiresAt ? e.expiresAt.toISOString() : null,
    allowedModels: e.allowedModels,
    cacheTtlSeconds: e.cacheTtlSeconds ?? null,
    owner: e.owner,
    budget: e.budget ? { ...e.budget, currency: BUDGET_CURRENCY, spent: spent(e) } : null,
    revokedAt: e.revokedAt ? e.revokedAt.toISOString() : null,
    createdAt: e.createdAt.toISOString(),
  };
}

function storedOwner(o: { kind: StoredKeyOwner['kind']; name: string; email?: string }): StoredKeyOwner {
  return o.email !== undefined ? { kind: o.kind, name: o.name, email: o.email } : { kind: o.kind, name: o.name };
}

function storedBudget(b: StoredKeyBudget): StoredKeyBudget {
  return { amount: b.amount, period: b.period, mode: b.mode };
}

function encodeCursor(e: ApiKeyEntity): string {
  return Buffer.from(JSON.stringify([e.createdAt.toISOString(), e.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [string, string];
    const createdAt = new Date(at);
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad cursor');
    return { createdAt, id };
  } catch {
    throw AppError.validation([{ field: 'cursor', messages: ['cursor is not one this API returned'] }]);
  }
}
