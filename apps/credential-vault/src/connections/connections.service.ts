import { Injectable, Logger } from '@nestjs/common';
import { AdapterRegistry } from '#libs/adapter-sdk';
import { BusClient } from '#libs/bus';
import {
  AppError,
  ErrorCode,
  type ChangeKind,
  type CommandEnvelope,
  type ConnectionView,
  type CreateConnectionDto,
  type IdInput,
  type ListInput,
  type Page,
  type ResolvedConnection,
  type RevealedConnectionView,
  type TenantScope,
} from '#libs/contracts';
import { newId } from '#libs/db';
import { assertMayChange, attemptOf, audited, HiddenRefusal, mayRead, ownerOfNewRow } from '#libs/tenancy';
import { UpstreamAddressPolicy } from '#libs/upstream-guard';
import type { AuditAction } from '../audit/audit-action.js';
import { AuditLogRepository } from '../audit/audit-log.repository.js';
import { SecretUnreadableError } from '../crypto/envelope-cipher.js';
import { checkConnectionAdapter } from './connection-adapter-check.js';
import { ConnectionSecrets, type ConnectionCredentials } from './connection-secrets.js';
import { toConnectionView, toResolvedConnection, toRevealedView } from './connection-views.js';
import { ConnectionEntity } from './connection.entity.js';
import { ConnectionsRepository } from './connections.repository.js';
import { decodeListCursor, encodeListCursor } from './list-cursor.js';
import { lastFourOf } from './secret-mask.js';
import { VaultTransactions } from './vault-transactions.js';

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
  ) {}

  async create({ scope, actor, input }: CommandEnvelope<CreateConnectionDto>): Promise<ConnectionView> {
    const attempt = attemptOf<AuditAction>({ scope, actor }, 'connection.created', null, input.projectId ?? scope.projectId);
    return audited(this.audit, attempt, async () => {
      const owner = ownerOfNewRow(scope, input.projectId);
      const { baseUrl } = checkConnectionAdapter(this.adapters, input);
      // An address literal (any notation) is judged now; a host name on every connection the gateway opens.
      const refused = this.upstreamAddresses.checkUrl(baseUrl);
      if (refused) throw AppError.validation([{ field: 'baseUrl', messages: [refused.forField('baseUrl')] }]);
      const credentials: ConnectionCredentials = { apiKey: input.apiKey, headers: { ...(input.headers ?? {}) } };
      const headerNames = Object.keys(credentials.headers);
      const row = new ConnectionEntity();
      row.id = newId('conn');
      row.organisationId = owner.organisationId;
      row.projectId = owner.projectId;
      row.name = input.name;
      row.adapter = input.adapter;
      row.baseUrl = baseUrl;
      const sealed = this.secrets.seal(row, credentials);
      row.secretCiphertext = sealed.ciphertext;
      row.wrappedDataKey = sealed.wrappedDataKey;
      row.masterKeyId = sealed.masterKeyId;
      row.apiKeyLast4 = lastFourOf(credentials.apiKey);
      row.headerNames = headerNames;
      row.headerValueLast4 = headerNames.map((name) => lastFourOf(credentials.headers[name]));

      await this.transactions.run(async (manager) => {
        if ((await this.connections.insert(row, manager)) === 'duplicate_name') {
          throw new AppError(ErrorCode.Conflict, `a connection named ${input.name} already exists in this organisation`, { name: input.name });
        }
        await this.audit.record({ ...attempt, projectId: row.projectId, targetId: row.id }, manager);
      });
      this.changed(row, 'created');
      return toConnectionView(row);
    });
  }

  async list(scope: TenantScope, input: ListInput): Promise<Page<ConnectionView>> {
    const requested = Number.isFinite(input.limit) ? Math.trunc(input.limit!) : DEFAULT_PAGE_SIZE;
    const limit = Math.min(Math.max(requested, 1), MAX_PAGE_SIZE);
    const after = input.cursor ? decodeListCursor(input.cursor) : undefined;
    const rows = await this.connections.list(scope, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { items: page.map(toConnectionView), nextCursor: rows.length > limit && last ? encodeListCursor(last) : null };
  }

  async get(scope: TenantScope, id: string): Promise<ConnectionView> {
    const row = await this.connections.findInScope(scope, id);
    if (!row) throw AppError.notFound('connection', id);
    return toConnectionView(row);
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
        const credentials = this.open(row);
        await this.audit.record({ ...attempt, projectId: row.projectId }, manager);
        return toRevealedView(row, credentials);
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
    const resolved: ResolvedConnection[] = [];
    for (const row of await this.connections.all()) {
      try {
        resolved.push(toResolvedConnection(row, this.secrets.open(row, sealedOf(row))));
      } catch (err) {
        if (!(err instanceof SecretUnreadableError)) throw err;
        this.logger.error(`connection ${row.id} (organisation ${row.organisationId}) left out of the read model: ${err.message}`);
      }
    }
    return resolved;
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

  private changed(row: ConnectionEntity, change: ChangeKind): void {
    this.bus.publishAfterCommit('vault.v1.events.connection-changed', {
      id: row.id,
      scope: { organisationId: row.organisationId, projectId: row.projectId },
      change,
      at: new Date().toISOString(),
    });
  }
}

function sealedOf(row: ConnectionEntity) {
  return { ciphertext: row.secretCiphertext, wrappedDataKey: row.wrappedDataKey, masterKeyId: row.masterKeyId };
}
