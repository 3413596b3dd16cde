import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { AppError, ErrorCode, type CommandEnvelope, type RotateMasterKeyDto, type MasterKeyRotationView } from '#libs/contracts';
import { assertMayChange } from '#libs/tenancy';
import { AuditLogRepository, SYSTEM_ACTOR, type AuditActor } from '../audit/audit-log.repository.js';
import { EnvelopeCipher } from '../crypto/envelope-cipher.js';
import { MasterKeys } from '../crypto/master-keys.js';
import { ConnectionsRepository, type RewrappedKey, type WrappedKeyRow } from './connections.repository.js';
import { VaultTransactions } from './vault-transactions.js';

export const REWRAP_BATCH_SIZE = 100;

export interface RotationOutcome {
  /** Re-wrapped connections per organisation. */
  rewrapped: Map<string, number>;
  /** Rows whose master key id this process does not hold, by key id: logged, left untouched. */
  unknownKeys: Map<string, number>;
  /** Another replica held the rotation lock, so this one did nothing. */
  skipped: boolean;
}

/**
 * Rotation without downtime: the operator puts a new key first in VAULT_MASTER_KEY and keeps the
 * old ones after it. Reads work at once (any listed key unwraps); after start this moves every
 * data key still wrapped by a retired key to the active one, in batches, in the background. Once
 * no row names an old key, the operator can remove it.
 */
@Injectable()
export class MasterKeyRotationService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MasterKeyRotationService.name);
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly keys: MasterKeys,
    private readonly cipher: EnvelopeCipher,
    private readonly connections: ConnectionsRepository,
    private readonly audit: AuditLogRepository,
    private readonly transactions: VaultTransactions,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: the vault answers while this runs; every listed key can already unwrap.
    this.running = this.rotateMasterKey().catch((err: unknown) =>
      this.logger.error(`master key rotation stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /**
   * The admin command (POST /admin/vault/rotate-master-key): takes the new key (generated, or
   * re-read from VAULT_MASTER_KEY_FILE), then re-wraps every data key under it in batches while
   * calls go on (a re-wrap changes no secret, so the gateways' credentials stay as they are).
   * Resumable: a run cut short leaves rows on keys that stay readable, and the next run (or start) moves them.
   */
  async rotateOnDemand({ scope, actor, input }: CommandEnvelope<RotateMasterKeyDto>): Promise<MasterKeyRotationView> {
    // Master keys are the whole vault's, not a project's: an organisation-wide admin only.
    assertMayChange(scope, { organisationId: scope.organisationId, projectId: null }, 'the vault master key');
    const previous = this.keys.activeId;
    if (input.generateKey) {
      if (!(await this.keys.generate())) {
        throw AppError.validation([
          { field: 'generateKey', messages: ['this vault reads its master keys from VAULT_MASTER_KEY or VAULT_MASTER_KEY_FILE: put the new key first in VAULT_MASTER_KEY_FILE (the old ones after it) and call this without generateKey'] },
        ]);
      }
    } else {
      await this.keys.reload();
    }
    await this.running; // the start-up pass, if it still runs, holds the lock
    const run = this.rotateMasterKey({ keyId: actor.keyId, name: actor.name });
    this.running = run.catch(() => undefined);
    const outcome = await run;
    if (outcome.skipped) throw new AppError(ErrorCode.Conflict, 'another vault replica is re-wrapping data keys right now; try again when it is done');
    const remaining = Object.fromEntries([...(await this.connections.countByMasterKeyId())].filter(([id]) => id !== this.keys.activeId));
    return {
      activeMasterKeyId: this.keys.activeId,
      previousActiveMasterKeyId: previous,
      rewrapped: [...outcome.rewrapped.values()].reduce((a, b) => a + b, 0),
      remainingByMasterKeyId: remaining,
    };
  }

  async rotateMasterKey(actor: AuditActor = SYSTEM_ACTOR): Promise<RotationOutcome> {
    const outcome: RotationOutcome = { rewrapped: new Map(), unknownKeys: new Map(), skipped: false };
    const pendingKeyIds: string[] = [];
    for (const [keyId, count] of await this.connections.countByMasterKeyId()) {
      if (keyId === this.keys.activeId) continue;
      if (this.keys.has(keyId)) {
        pendingKeyIds.push(keyId);
      } else {
        outcome.unknownKeys.set(keyId, count);
        this.logger.error(
          `${count} connection(s) are sealed with master key ${keyId}, which is not configured: they cannot be read and are left untouched; add that key to VAULT_MASTER_KEY after the active one`,
        );
      }
    }
    if (pendingKeyIds.length === 0) return outcome;

    const acquired = await this.connections.withRotationLock(async (manager) => {
      let afterId = '';
      while (!this.stopping) {
        const batch = await this.connections.rewrapBatch(manager, { masterKeyIds: pendingKeyIds, afterId, limit: REWRAP_BATCH_SIZE }, (row) => this.rewrap(row));
        for (const row of batch.rewrapped) outcome.rewrapped.set(row.organisationId, (outcome.rewrapped.get(row.organisationId) ?? 0) + 1);
        if (batch.lastId === null) break;
        afterId = batch.lastId;
      }
    });
    if (!acquired) {
      this.logger.log('another replica is re-wrapping data keys; leaving it to that one');
      return { ...outcome, skipped: true };
    }
    await this.recordRotation(outcome.rewrapped, pendingKeyIds, actor);
    return outcome;
  }

  private rewrap(row: WrappedKeyRow): RewrappedKey | null {
    try {
      return this.cipher.rewrap(row);
    } catch (err) {
      this.logger.error(`connection ${row.id}: data key could not be re-wrapped, left as it is: ${(err as Error).message}`);
      return null;
    }
  }

  /**
   * One audit entry per organisation whose connections moved (the audit log is read per
   * organisation, and one organisation must not learn how many connections others hold).
   */
  private async recordRotation(rewrapped: Map<string, number>, fromMasterKeyIds: string[], actor: AuditActor): Promise<void> {
    if (rewrapped.size === 0) return;
    await this.transactions.run(async (manager) => {
      for (const [organisationId, count] of rewrapped) {
        await this.audit.record(
          { organisationId, projectId: null, actor, action: 'master_key.rotated', targetId: this.keys.activeId, details: { count, fromMasterKeyIds } },
          manager,
        );
      }
    });
    const total = [...rewrapped.values()].reduce((a, b) => a + b, 0);
    this.logger.log(`re-wrapped ${total} data key(s) from master key(s) ${fromMasterKeyIds.join(', ')} to ${this.keys.activeId}`);
  }
}
