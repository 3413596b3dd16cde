import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigExportService } from './config-import/config-export.service.js';
import { ConfigImportService } from './config-import/config-import.service.js';
import { ConfigHandler } from './config-import/config.handler.js';
import { AuditLogHandler } from './audit/audit-log.handler.js';
import { AdapterRegistry } from '#libs/adapter-sdk';
import { ProcessEnvironment } from '#libs/config';
import { loadAdapterRegistry } from '#libs/adapters';
import { type RunningService, serviceInfrastructure, type ServiceRuntime, startBusService } from '#libs/runtime';
import { UpstreamAddressPolicy } from '#libs/upstream-guard';
import { AuditLogEntryEntity } from './audit/audit-log-entry.entity.js';
import { AuditLogRepository } from './audit/audit-log.repository.js';
import { ConnectionSecrets } from './connections/connection-secrets.js';
import { ConnectionEntity } from './connections/connection.entity.js';
import { ConnectionsHandler } from './connections/connections.handler.js';
import { ConnectionsRepository } from './connections/connections.repository.js';
import { ConnectionsService } from './connections/connections.service.js';
import { MasterKeyRotationService } from './connections/master-key-rotation.service.js';
import { VaultTransactions } from './connections/vault-transactions.js';
import { EnvelopeCipher } from './crypto/envelope-cipher.js';
import { MasterKeyRing } from './crypto/master-key-ring.js';
import { EnvironmentMasterKeySource, MasterKeySource } from './crypto/master-key-source.js';
import { MasterKeys } from './crypto/master-keys.js';
import { PingHandler } from './health/ping.handler.js';
import { VaultInitial1732360000000 } from './migrations/1732360000000-vault-initial.js';
import { VaultAuditOutcome1733560000000 } from './migrations/1733560000000-audit-outcome.js';
import { VaultTypedConnections1765090000000 } from './migrations/1765090000000-typed-connections.js';
import { VaultEnvKeysConfig1796960000000 } from './migrations/1796960000000-env-keys-config.js';

export const VAULT_SCHEMA = 'vault';

export interface CredentialVaultOptions {
  /** Where master keys come from; VAULT_MASTER_KEY (or embedded mode's key file) by default. */
  keySource?: MasterKeySource;
}

@Module({})
export class CredentialVaultModule {
  static async forRuntime(runtime: ServiceRuntime, options: CredentialVaultOptions = {}): Promise<DynamicModule> {
    // Keys first: without them the vault must refuse to start before it touches the database.
    const keySource = options.keySource ?? new EnvironmentMasterKeySource(runtime.config);
    const keys = await keySource.load();
    // The adapters a connection may name: the gateway's set, loaded by the same function.
    const adapters = await loadAdapterRegistry(runtime.config);
    const infrastructure = await serviceInfrastructure(runtime, {
      schema: VAULT_SCHEMA,
      entities: [ConnectionEntity, AuditLogEntryEntity],
      migrations: [VaultInitial1732360000000, VaultAuditOutcome1733560000000, VaultTypedConnections1765090000000, VaultEnvKeysConfig1796960000000],
    });
    return {
      module: CredentialVaultModule,
      imports: infrastructure,
      controllers: [ConnectionsHandler, AuditLogHandler, ConfigHandler, PingHandler],
      providers: [
        { provide: MasterKeyRing, useValue: keys },
        { provide: MasterKeySource, useValue: keySource },
        MasterKeys,
        { provide: AdapterRegistry, useValue: adapters },
        { provide: ProcessEnvironment, useValue: new ProcessEnvironment() },
        EnvelopeCipher,
        ConnectionSecrets,
        ConnectionsRepository,
        AuditLogRepository,
        VaultTransactions,
        { provide: UpstreamAddressPolicy, useValue: UpstreamAddressPolicy.fromAllowList(runtime.config.upstreamAllowlist) },
        ConnectionsService,
        MasterKeyRotationService,
        ConfigImportService,
        ConfigExportService,
      ],
    };
  }
}

export async function startCredentialVault(runtime: ServiceRuntime, options: CredentialVaultOptions = {}): Promise<RunningService> {
  return startBusService('credential-vault', await CredentialVaultModule.forRuntime(runtime, options), runtime);
}
