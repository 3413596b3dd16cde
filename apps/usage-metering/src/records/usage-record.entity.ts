import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { UsageStatus, UsageType } from '#libs/contracts';
import type { TenantOwned } from '#libs/db';

/**
 * One priced (or unpriced, with a reason) LLM call. Token counts are bigint and cost numeric: the
 * driver returns both as strings, so neither passes through a float.
 */
@Entity({ name: 'usage_records' })
export class UsageRecordEntity implements TenantOwned {
  @PrimaryColumn('text') id!: string;
  @Column('text', { name: 'organisation_id' }) organisationId!: string;
  @Column('text', { name: 'project_id', nullable: true }) projectId!: string | null;
  @Column('text', { name: 'key_id', nullable: true }) keyId!: string | null;
  @Column('text', { name: 'trace_id' }) traceId!: string;
  @Column('text', { name: 'span_id' }) spanId!: string;
  @Column('text') source!: string;
  @Column('text') model!: string;
  /** gen_ai.provider.name (gen_ai.system from older instrumentations), when the span says. */
  @Column('text', { nullable: true }) provider!: string | null;
  /** The connection a gateway call went to; null for OTLP spans. */
  @Column('text', { name: 'connection_id', nullable: true }) connectionId!: string | null;
  /** The provider model (gateway model name) a gateway call named; null for OTLP spans. */
  @Column('text', { name: 'provider_model', nullable: true }) providerModel!: string | null;
  /** The end user the call was made for, when the caller said. */
  @Column('text', { name: 'user_id', nullable: true }) userId!: string | null;
  @Column('text', { name: 'definition_id', nullable: true }) definitionId!: string | null;
  @Column('timestamptz', { name: 'price_effective_from', nullable: true }) priceEffectiveFrom!: Date | null;
  @Column('timestamptz', { name: 'started_at' }) startedAt!: Date;
  @Column('bigint', { name: 'input_tokens' }) inputTokens!: string;
  @Column('bigint', { name: 'output_tokens' }) outputTokens!: string;
  @Column('bigint', { name: 'cache_read_tokens' }) cacheReadTokens!: string;
  @Column('bigint', { name: 'cache_write_tokens' }) cacheWriteTokens!: string;
  @Column('bigint', { name: 'reasoning_tokens' }) reasoningTokens!: string;
  /** 'missing': the call's usage could not be read, its token counts are 0 and it is unpriced (usage_missing). */
  @Column('text', { name: 'usage_status' }) usageStatus!: UsageStatus;
  /** The usage was counted from the call's text with its definition's tokenizer (a span without token counts, a stream left early). */
  @Column('boolean') estimated!: boolean;
  /** The span's error.type when the call failed. */
  @Column('text', { name: 'error_type', nullable: true }) errorType!: string | null;
  /** Exact decimal string; null when unpriced. */
  @Column('numeric', { nullable: true }) cost!: string | null;
  /** Usage type -> exact decimal string. */
  @Column('jsonb', { name: 'cost_breakdown', nullable: true }) costBreakdown!: Partial<Record<UsageType, string>> | null;
  @Column('boolean') priced!: boolean;
  @Column('text', { name: 'unpriced_reason', nullable: true }) unpricedReason!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
