import { Injectable, Logger } from '@nestjs/common';
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
import { UpstreamAddressPolicy } from '#libs/upstream-guard';
import { AuditLogRepository } from '../audit/audit-log.repository.js';
import { SecretUnreadableError } from '../crypto/envelope-cipher.js';
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
  ) {}

  async create({ scope, actor, input }: CommandEnvelope<CreateConnectionDto>): Promise<ConnectionView> {
    const projectId = input.projectId ?? scope.projectId;
    if (scope.projectId !== null && projectId !== scope.projectId) {
      throw new AppError(ErrorCode.Forbidden, `a key of project ${scope.projectId} cannot create connections in project ${projectId}`);
    }
    // An address literal (any notation) is judged now; a host name on every connection the gateway opens.
    const refused = this.upstreamAddresses.checkUrl(input.baseUrl);
    if (refused) throw AppError.validation([{ field: 'baseUrl', messages: [refused.forField('baseUrl')] }]);
    const credentials: ConnectionCredentials = { apiKey: input.apiKey, headers: { ...(input.headers ?? {}) } };
    const headerNames = Object.keys(credentials.headers);
    const row = new ConnectionEntity();
    row.id = newId('conn');
    row.organisationId = scope.organisationId;
    row.projectId = projectId;
    row.name = input.name;
    row.adapter = input.adapter;
    row.baseUrl = input.baseUrl;
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
      await this.audit.record({ organisationId: row.organisationId, projectId: row.projectId, actor, action: 'connection.created', targetId: row.id }, manager);
    });
    this.changed(row, 'created');
    return toConnectionView(row);
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
    const row = await this.transactions.run(async (manager) => {
      const found = await this.connections.lockInScope(scope, input.id, manager, 'update');
      if (!found) throw AppError.notFound('connection', input.id);
      await this.connections.delete(found, manager);
      await this.audit.record({ organisationId: found.organisationId, projectId: found.projectId, actor, action: 'connection.deleted', targetId: found.id }, manager);
      return found;
    });
    this.changed(row, 'deleted');
    return { deleted: true };
  }

  /** Decrypts, then commits the audit entry, then answers: no reveal leaves without its entry. */
  async reveal({ scope, actor, input }: CommandEnvelope<IdInput>): Promise<RevealedConnectionView> {
    return this.transactions.run(async (manager) => {
      const row = await this.connections.lockInScope(scope, input.id, manager, 'share');
      if (!row) throw AppError.notFound('connection', input.id);
      const credentials = this.open(row);
      await this.audit.record({ organisationId: row.organisationId, projectId: row.projectId, actor, action: 'connection.revealed', targetId: row.id }, manager);
      return toRevealedView(row, credentials);
    });
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
      const code = err.reason === 'unknown_master_key' ? ErrorCode.Unavailable : ErrorCode.Internal;
      throw new AppError(code, `the credentials of connection ${row.id} cannot be decrypted: ${err.message}`);
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
