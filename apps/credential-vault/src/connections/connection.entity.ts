import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { AdapterId } from '#libs/contracts';
import type { TenantOwned } from '#libs/db';

/**
 * A provider connection. The API key and the extra header values exist only inside
 * `secretCiphertext` (one sealed JSON payload); the row keeps what masked views need in clear:
 * the header names and, for secrets longer than 8 characters, their last 4 characters.
 */
@Entity({ name: 'connections' })
export class ConnectionEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text') name!: string;
  @Column('text') adapter!: AdapterId;
  @Column('text', { name: 'base_url' }) baseUrl!: string;
  @Column('bytea', { name: 'secret_ciphertext' }) secretCiphertext!: Buffer;
  @Column('bytea', { name: 'wrapped_data_key' }) wrappedDataKey!: Buffer;
  @Column('text', { name: 'master_key_id' }) masterKeyId!: string;
  @Column('text', { name: 'api_key_last4', nullable: true }) apiKeyLast4!: string | null;
  @Column('text', { name: 'header_names', array: true }) headerNames!: string[];
  /** Same order as headerNames; null where the value is 8 characters or less. */
  @Column('text', { name: 'header_value_last4', array: true }) headerValueLast4!: (string | null)[];
  // Millisecond precision, like a JS Date: the list cursor carries created_at and must compare equal.
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', precision: 3 }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', precision: 3 }) updatedAt!: Date;
}
