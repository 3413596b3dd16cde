import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { AdapterId, ConnectionStatus } from '#libs/contracts';
import type { TenantOwned } from '#libs/db';

/**
 * A provider connection. The API key and the extra header values exist only inside
 * `secretCiphertext` (one sealed JSON payload); the row keeps what masked views need in clear:
 * the header names and, for secrets longer than 8 characters, their last 4 characters. The
 * adapter's other secret fields are sealed in the same payload; its plain settings are in clear.
 */
@Entity({ name: 'connections' })
export class ConnectionEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text') name!: string;
  @Column('text') slug!: string;
  @Column('text') adapter!: AdapterId;
  @Column('text', { name: 'base_url' }) baseUrl!: string;
  @Column('bytea', { name: 'secret_ciphertext' }) secretCiphertext!: Buffer;
  @Column('bytea', { name: 'wrapped_data_key' }) wrappedDataKey!: Buffer;
  @Column('text', { name: 'master_key_id' }) masterKeyId!: string;
  @Column('text', { name: 'api_key_last4', nullable: true }) apiKeyLast4!: string | null;
  @Column('text', { name: 'header_names', array: true }) headerNames!: string[];
  /** Same order as headerNames; null where the value is 8 characters or less. */
  @Column('text', { name: 'header_value_last4', array: true }) headerValueLast4!: (string | null)[];
  /** The adapter's plain (kind `setting`) fields, defaults applied; baseUrl is its own column. */
  @Column('jsonb') settings!: Record<string, string | number | boolean>;
  /** Secret field name -> its last 4 characters (null for a short one), apiKey included. */
  @Column('jsonb', { name: 'secret_last4' }) secretLast4!: Record<string, string | null>;
  /** Secret field -> the environment variable the gateway reads it from (such a field is not sealed). */
  @Column('jsonb', { name: 'secret_env_vars', default: () => "'{}'" }) secretEnvVars!: Record<string, string>;
  /** `config:<file>` for a connection imported from CONFIG_DIR; null when managed through the API. */
  @Column('text', { name: 'managed_by', nullable: true }) managedBy!: string | null;
  @Column('text') status!: ConnectionStatus;
  @Column('text', { name: 'last_error', nullable: true }) lastError!: string | null;
  @Column({ type: 'timestamptz', name: 'last_error_at', precision: 3, nullable: true }) lastErrorAt!: Date | null;
  // Millisecond precision, like a JS Date: the list cursor carries created_at and must compare equal.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 }) updatedAt!: Date;
}
