import { Injectable, Logger } from '@nestjs/common';
import { AdapterRegistry } from '#libs/adapter-sdk';
import { ProcessEnvironment } from '#libs/config';
import { headerTemplateErrors } from '#libs/header-templates';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  type ChangeKind,
  type CommandEnvelope,
  type ConnectionView,
  type CreateConnectionDto,
  type FieldError,
  type IdInput,
  type ListConnectionsInput,
  type Page,
  type RecordConnectionTestDto,
  type ResolvedConnection,
  type ResolvedConnectionPage,
  type ResolvePageInput,
  RESOLVE_PAGE_MAX,
  RESOLVE_PAGE_SIZE,
  type RevealedConnectionView,
  type TenantScope,
  type UpdateConnectionInput,
  slugOfName,
} from '#libs/contracts';
import { newId } from '#libs/db';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewRow } from '#libs/tenancy';
import { UpstreamAddressPolicy } from '#libs/upstream-guard';
import type { AuditAction } from '../audit/audit-action.js';
import { AuditLogRepository } from '../audit/audit-log.repository.js';
import { SecretUnreadableError } from '../crypto/envelope-cipher.js';
import { MasterKeys } from '../crypto/master-keys.js';
import { checkConnectionFields, loadedAdapter, type CheckedConnectionFields } from './connection-adapter-check.js';
import { ConnectionSecrets, type ConnectionCredentials } from './connection-secrets.js';
import { toConnectionView, toResolvedConnection, toRevealedView } from './connection-views.js';
import { ConnectionEntity } from './connection.entity.js';
import { ConnectionsRepository } from './connections.repository.js';
import { decodeListCursor, encodeListCursor } from './list-cursor.js';
import { lastFourOf } from './secret-mask.js';
import { VaultTransactions } from './vault-transactions.js';
import type { EntityManager } from 'typeorm';

/** Set only by the configuration import (never by a client): which file manages the connection. */
export interface ManagedBy {
  managedBy?: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** The rules of provider connections: sealed on write, masked on read, revealed only with an audit entry. */
@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger(ConnectionsService.name);

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly audit: AuditLogRepository,
    private readonly secrets: ConnectionSecrets,
    private readonly transactions: VaultTransactions,
    private readonly bus: BusClient,
    private readonly upstreamAddresses: UpstreamAddressPolicy,
    private readonly adapters: AdapterRegistry,
    private readonly environment: ProcessEnvironment,
    private readonly masterKeys: MasterKeys,
  ) {}

  async create({ scope, actor, input }: CommandEnvelope<CreateConnectionDto & ManagedBy>): Promise<ConnectionView> {
    const attempt = attemptOf<AuditAction>({ scope, actor }, 'connection.created', null, input.projectId ?? scope.projectId);
    return audited(this.audit, attempt, async () => {
      const owner = ownerOfNewRow(scope, input.projectId);
      const secretEnvVars = { ...(input.secretEnvVars ?? {}), ...(input.apiKeyEnvVar !== undefined ? { apiKey: input.apiKeyEnvVar } : {}) };
      const checked = checkConnectionFields(this.adapters, { ...input, secretEnvVars });
      assertHeaderTemplates(input.headers ?? {});
      this.assertAddressAllowed(checked.baseUrl);
      this.assertSettingAddressesAllowed(checked);
      const row = new ConnectionEntity();
      row.id = newId('conn');
      row.organisationId = owner.organisationId;
      row.projectId = owner.projectId;
      row.name = input.name;
      row.adapter = input.adapter;
      row.baseUrl = checked.baseUrl;
      row.settings = checked.settings;
      row.secretEnvVars = secretEnvVars;
      row.managedBy = input.managedBy ?? null;
      row.status = 'active';
      row.lastError = null;
      row.lastErrorAt = null;
      this.sealInto(row, { secrets: checked.secrets, headers: { ...(input.headers ?? {}) } });

      await this.transactions.run(async (manager) => {
        row.slug = input.slug ?? (await this.freeSlug(row.organisationId, slugOfName(input.name), manager));
        if ((await this.connections.insert(row, manager)) === 'duplicate') throw await this.clash(row, manager);
        await this.audit.record({ ...attempt, projectId: row.projectId, targetId: row.id }, manager);
      });
      this.changed(row, 'created');
      return toConnectionView(row, this.environment);
    });
  }

  /**
   * A change to a connection. Secrets (apiKey, header values, the adapter's secret settings) left
   * out or blank keep the stored ones, null removes one; plain settings merge with the stored ones
   * (null resets one to its default); the result goes through the adapter's validateSettings again.
   * The adapter never changes (the DTO refuses it). Re-sealed under a fresh data key.
   */
  async update({ scope, actor, input }: CommandEnvelope<UpdateConnectionInput & ManagedBy>): Promise<ConnectionView> {
    const attempt = attemptOf<AuditAction>({ scope, actor }, 'connection.updated', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, () =>
      this.transactions.run(async (manager) => {
        const found = this.ownedOrRefused(scope, await this.connections.lockInOrganisation(scope, input.id, manager, 'update'), input.id, attempt);
        if (input.projectId !== undefined) {
          const owner = ownerOfNewRow(scope, input.projectId);
          found.projectId = owner.projectId;
        }
        const stored = await this.openRow(found);
        const adapter = loadedAdapter(this.adapters, found.adapter);
        const secretFields = new Set(adapter.settings.fields.filter((f) => f.kind === 'secret').map((f) => f.name));
        const secretEnvVars = mergeEnvVars(found.secretEnvVars ?? {}, { ...(input.secretEnvVars ?? {}), ...(input.apiKeyEnvVar !== undefined ? { apiKey: input.apiKeyEnvVar } : {}) });
        const secrets = mergeSecrets(stored.secrets, { apiKey: input.apiKey, ...pickFields(input.settings, secretFields) });
        // A field now read from the environment is no longer stored; a value given for it is refused by the check below.
        for (const name of Object.keys(secretEnvVars)) if (secrets[name] === stored.secrets[name]) delete secrets[name];
        const settings: Record<string, unknown> = { ...found.settings };
        for (const [name, value] of Object.entries(input.settings ?? {})) {
          if (secretFields.has(name)) continue;
          if (value === null) delete settings[name];
          else settings[name] = value;
        }
        const { apiKey, ...otherSecrets } = secrets;
        const baseUrl = input.baseUrl ?? (found.baseUrl === '' ? undefined : found.baseUrl);
        const checked = checkConnectionFields(this.adapters, { adapter: found.adapter, baseUrl, apiKey, settings: { ...settings, ...otherSecrets }, secretEnvVars });
        const headers = input.headers === undefined ? stored.headers : mergeHeaders(stored.headers, input.headers);
        if (input.headers !== undefined) assertHeaderTemplates(headers);
        if (input.baseUrl !== undefined) this.assertAddressAllowed(checked.baseUrl);
        this.assertSettingAddressesAllowed(checked);
        found.baseUrl = checked.baseUrl;
        found.settings = checked.settings;
        found.secretEnvVars = secretEnvVars;
        if (input.managedBy !== undefined) found.managedBy = input.managedBy;
        if (input.name !== undefined) found.name = input.name;
        if (input.slug !== undefined) found.slug = input.slug;
        if (input.status !== undefined && input.status !== found.status) found.status = input.status;
        found.updatedAt = new Date();
        this.sealInto(found, { secrets: checked.secrets, headers });
        if ((await this.connections.clashOf(found, manager, found.id)) !== null) throw await this.clash(found, manager, found.id);
        await this.connections.update(found, manager);
        await this.audit.record({ ...attempt, projectId: found.projectId, details: { fields: changedFields(input) } }, manager);
        return found;
      }),
    );
    this.changed(row, 'updated');
    return toConnectionView(row, this.environment);
  }

  /**
   * How a connection test went (the gateway ran it): active after a success, error with the
   * provider's message after a failure. A connection an admin set inactive stays inactive (a test
   * does not route it again); its last error is still noted.
   */
  async recordTest({ scope, actor, input }: CommandEnvelope<RecordConnectionTestDto>): Promise<ConnectionView> {
    const attempt = attemptOf<AuditAction>({ scope, actor }, 'connection.tested', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, () =>
      this.transactions.run(async (manager) => {
        const found = this.ownedOrRefused(scope, await this.connections.lockInOrganisation(scope, input.id, manager, 'update'), input.id, attempt);
        if (input.ok) {
          if (found.status !== 'inactive') found.status = 'active';
          found.lastError = null;
          found.lastErrorAt = null;
        } else {
          if (found.status !== 'inactive') found.status = 'error';
          found.lastError = `${input.errorKind ?? 'upstream_error'}: ${input.message ?? 'the test call failed'}`;
          found.lastErrorAt = new Date();
        }
        found.updatedAt = new Date();
        await this.connections.update(found, manager);
        await this.audit.record({ ...attempt, projectId: found.projectId, details: { ok: input.ok, ...(input.errorKind ? { errorKind: input.errorKind } : {}) } }, manager);
        return found;
      }),
    );
    this.changed(row, 'updated');
    return toConnectionView(row, this.environment);
  }

  async list(scope: TenantScope, input: ListConnectionsInput): Promise<Page<ConnectionView>> {
    const requested = Number.isFinite(input.limit) ? Math.trunc(input.limit!) : DEFAULT_PAGE_SIZE;
    const limit = Math.min(Math.max(requested, 1), MAX_PAGE_SIZE);
    const after = input.cursor ? decodeListCursor(input.cursor) : undefined;
    // Status as the views show it: a connection whose environment variable is unset here is in error.
    const unset = input.status === 'error' || input.status === 'active' ? (await this.connections.environmentVariables(scope.organisationId)).filter((name) => this.environment.get(name) === undefined) : [];
    const rows = await this.connections.list(scope, limit + 1, after, input.status, unset);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map((row) => toConnectionView(row, this.environment)), nextCursor: rows.length > limit && last ? encodeListCursor(last) : null };
  }

  async get(scope: TenantScope, id: string): Promise<ConnectionView> {
    const row = await this.connections.findInScope(scope, id);
    if (!row) throw AppError.notFound('connection', id);
    return toConnectionView(row, this.environment);
  }

  async delete({ scope, actor, input }: CommandEnvelope<IdInput>): Promise<{ deleted: true }> {
    const attempt = attemptOf<AuditAction>({ scope, actor }, 'connection.deleted', input.id, scope.projectId);
    const row = await audited(this.audit, attempt, () =>
      this.transactions.run(async (manager) => {
        const found = this.ownedOrRefused(scope, await this.connections.lockInOrganisation(scope, input.id, manager, 'update'), input.id, attempt);
        await this.connections.delete(found, manager);
        await this.audit.record({ ...attempt, projectId: found.projectId }, manager);
        return found;
      }),
    );
    this.changed(row, 'deleted');
    return { deleted: true };
  }

  /**
   * Decrypts, then commits the audit entry, then answers: no reveal leaves without its entry.
   * Only a caller who may change the connection may reveal it: a project admin sees the
   * organisation-wide connections (its models route to them) but cannot take their secret.
   */
  async reveal({ scope, actor, input }: CommandEnvelope<IdInput>): Promise<RevealedConnectionView> {
    const attempt = attemptOf<AuditAction>({ scope, actor }, 'connection.revealed', input.id, scope.projectId);
    return audited(this.audit, attempt, () =>
      this.transactions.run(async (manager) => {
        const row = this.ownedOrRefused(scope, await this.connections.lockInOrganisation(scope, input.id, manager, 'share'), input.id, attempt);
        const credentials = await this.openRow(row);
        await this.audit.record({ ...attempt, projectId: row.projectId }, manager);
        return toRevealedView(row, credentials, this.environment);
      }),
    );
  }

  /**
   * The ownership rule on a row found by id in the caller's organisation. A row the caller cannot
   * even read answers not_found, like an unknown id, so existence does not leak; a row it can read
   * but not change answers forbidden. Notes the row's project for the audit entry.
   */
  private ownedOrRefused(scope: TenantScope, row: ConnectionEntity | null, id: string, attempt: { projectId: string | null }): ConnectionEntity {
    if (row === null) throw AppError.notFound('connection', id);
    attempt.projectId = row.projectId;
    if (!mayRead(scope, row)) throw new HiddenRefusal(`connection ${id} is outside the caller's project`, AppError.notFound('connection', id));
    assertMayChange(scope, row, `connection ${id}`);
    return row;
  }

  /**
   * Every connection with its credentials, for the gateway's read model. A row that cannot be
   * opened is left out and logged, so one bad row does not take every other connection down.
   */
  async resolveAll(): Promise<ResolvedConnection[]> {
    return this.resolveRows(await this.connections.all());
  }

  /** One page of resolveAll, in id order: the read model loads any number of connections this way. */
  async resolvePage(input: ResolvePageInput): Promise<ResolvedConnectionPage> {
    const limit = Math.min(Math.max(Math.trunc(input.limit ?? RESOLVE_PAGE_SIZE), 1), RESOLVE_PAGE_MAX);
    const rows = await this.connections.pageAfter(input.after ?? '', limit);
    return { items: await this.resolveRows(rows), next: rows.length === limit ? rows.at(-1)!.id : null };
  }

  private async resolveRows(rows: ConnectionEntity[]): Promise<ResolvedConnection[]> {
    const resolved: ResolvedConnection[] = [];
    let reloaded: boolean | undefined;
    for (const row of rows) {
      try {
        resolved.push(toResolvedConnection(row, this.secrets.open(row, sealedOf(row))));
      } catch (err) {
        if (!(err instanceof SecretUnreadableError)) throw err;
        // Another vault replica may be re-wrapping under a key this one has not read yet: read the keys once, then try again.
        if (err.reason === 'unknown_master_key' && (reloaded ??= await this.masterKeys.reload())) {
          try {
            resolved.push(toResolvedConnection(row, this.secrets.open(row, sealedOf(row))));
            continue;
          } catch (again) {
            if (!(again instanceof SecretUnreadableError)) throw again;
          }
        }
        this.logger.error(`connection ${row.id} (organisation ${row.organisationId}) left out of the read model: ${err.message}`);
      }
    }
    return resolved;
  }

  /** open(), after reading the master keys again when the row names one this vault does not hold yet (a rotation on another replica). */
  private async openRow(row: ConnectionEntity): Promise<ConnectionCredentials> {
    if (!this.masterKeys.has(row.masterKeyId)) await this.masterKeys.reload();
    return this.open(row);
  }

  private open(row: ConnectionEntity): ConnectionCredentials {
    try {
      return this.secrets.open(row, sealedOf(row));
    } catch (err) {
      if (!(err instanceof SecretUnreadableError)) throw err;
      this.logger.error(`connection ${row.id} (organisation ${row.organisationId}) cannot be decrypted: ${err.message}`);
      // A missing master key is the operator's to fix, so its id is named; any other failure (a
      // tampered or mis-copied ciphertext) is internal: its detail stays in this log.
      if (err.reason === 'unknown_master_key') throw new AppError(ErrorCode.Unavailable, `the credentials of connection ${row.id} cannot be decrypted: ${err.message}`);
      throw new AppError(ErrorCode.Internal, `the credentials of connection ${row.id} cannot be decrypted`);
    }
  }

  /** An address literal (any notation) is judged now; a host name on every connection the gateway opens. */
  private assertAddressAllowed(baseUrl: string): void {
    if (baseUrl === '') return;
    const refused = this.upstreamAddresses.checkUrl(baseUrl);
    if (refused) throw AppError.validation([{ field: 'baseUrl', messages: [refused.forField('baseUrl')] }]);
  }

  /**
   * The adapter's other URL settings (an Entra ID authority, a token endpoint) and URLs inside
   * settings (a key file's token_uri) are called too: the same address rules as baseUrl, each
   * refusal naming its `settings.<name>`.
   */
  private assertSettingAddressesAllowed(checked: CheckedConnectionFields): void {
    const errors: FieldError[] = [];
    for (const field of checked.adapter.settings.fields) {
      const value = checked.settings[field.name];
      if (field.type !== 'url' || field.name === 'baseUrl' || typeof value !== 'string') continue;
      const refused = this.upstreamAddresses.checkUrl(value);
      if (refused) errors.push({ field: `settings.${field.name}`, messages: [refused.forField(`settings.${field.name}`)] });
    }
    // URLs inside a value (a service-account key's token_uri): under the same rules, naming the setting.
    for (const { field, name, url } of checked.adapter.embeddedUrls?.({ settings: checked.settings, secrets: checked.secrets }) ?? []) {
      const refused = this.upstreamAddresses.checkUrl(url);
      if (refused) errors.push({ field: `settings.${field}`, messages: [refused.forField(`the ${name} of settings.${field}`)] });
    }
    if (errors.length > 0) throw AppError.validation(errors);
  }

  /** Seals the credentials into the row under a fresh data key, with what masked views need in clear. */
  private sealInto(row: ConnectionEntity, credentials: ConnectionCredentials): void {
    const sealed = this.secrets.seal(row, credentials);
    row.secretCiphertext = sealed.ciphertext;
    row.wrappedDataKey = sealed.wrappedDataKey;
    row.masterKeyId = sealed.masterKeyId;
    row.apiKeyLast4 = credentials.secrets.apiKey === undefined ? null : lastFourOf(credentials.secrets.apiKey);
    row.secretLast4 = Object.fromEntries(Object.entries(credentials.secrets).map(([name, value]) => [name, lastFourOf(value)]));
    row.headerNames = Object.keys(credentials.headers);
    row.headerValueLast4 = row.headerNames.map((name) => lastFourOf(credentials.headers[name]!));
  }

  /** The default slug, numbered (-2, -3, ...) past the ones the organisation already has. */
  private async freeSlug(organisationId: string, base: string, manager: EntityManager): Promise<string> {
    const taken = await this.connections.slugsLike(organisationId, base, manager);
    if (!taken.has(base)) return base;
    for (let n = 2; ; n++) {
      const suffix = `-${n}`;
      const candidate = `${base.slice(0, 40 - suffix.length).replace(/-+$/, '')}${suffix}`;
      if (!taken.has(candidate)) return candidate;
    }
  }

  private async clash(row: ConnectionEntity, manager: EntityManager, exceptId = ''): Promise<AppError> {
    const clash = (await this.connections.clashOf(row, manager, exceptId)) ?? 'name';
    return clash === 'name'
      ? new AppError(ErrorCode.Conflict, `a connection named ${row.name} already exists in this organisation`, { name: row.name })
      : new AppError(ErrorCode.Conflict, `a connection with the slug ${row.slug} already exists in this organisation`, { slug: row.slug });
  }

  private changed(row: ConnectionEntity, change: ChangeKind): void {
    this.bus.publishAfterCommit('vault.v1.events.connection-changed', {
      id: row.id,
      scope: { organisationId: row.organisationId, projectId: row.projectId },
      change,
      at: new Date().toISOString(),
    });
  }
}

/** Stored secrets with a change applied: undefined or blank keeps one, null removes it, a value replaces it. */
function mergeSecrets(stored: Record<string, string>, change: Record<string, unknown>): Record<string, string> {
  const merged = { ...stored };
  for (const [name, value] of Object.entries(change)) {
    if (value === undefined || value === '') continue;
    if (value === null) delete merged[name];
    else merged[name] = String(value);
  }
  return merged;
}

/** The new header set: the names given, each blank value keeping the stored value of that name. */
function mergeHeaders(stored: Record<string, string>, given: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(given)
      .map(([name, value]): [string, string] => [name, value === '' ? (stored[name] ?? '') : value])
      .filter(([, value]) => value !== ''),
  );
}

/** Stored secret-field -> variable names with a change applied: null removes one, a name sets it. */
function mergeEnvVars(stored: Record<string, string>, change: Record<string, string | null>): Record<string, string> {
  const merged = { ...stored };
  for (const [name, variable] of Object.entries(change)) {
    if (variable === null) delete merged[name];
    else merged[name] = variable;
  }
  return merged;
}

/** Extra-header values may be Mustache templates of the known variables only: a 400 names each bad header. */
function assertHeaderTemplates(headers: Record<string, string>): void {
  const errors = headerTemplateErrors(headers);
  if (errors.length > 0) throw AppError.validation(errors.map((e) => ({ field: `headers.${e.header}`, messages: [e.message] })));
}

function pickFields(values: Record<string, unknown> | undefined, names: Set<string>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values ?? {}).filter(([name]) => names.has(name)));
}

/** What a change touched, for the audit entry: field names only, never a value. */
function changedFields(input: UpdateConnectionInput): string[] {
  const fields = (['name', 'slug', 'baseUrl', 'apiKey', 'apiKeyEnvVar', 'secretEnvVars', 'headers', 'projectId', 'status'] as const).filter((f) => input[f] !== undefined);
  return [...fields, ...Object.keys(input.settings ?? {}).map((name) => `settings.${name}`)];
}

function sealedOf(row: ConnectionEntity) {
  return { ciphertext: row.secretCiphertext, wrappedDataKey: row.wrappedDataKey, masterKeyId: row.masterKeyId };
}
