import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';
import type { UsageType } from './model-definitions.js';
import type { UsageStatus } from './telemetry.js';
import { pageQuery } from './page-query.js';

/**
 * What a cost report groups by: the priced model, the project, the gateway key, the provider
 * (gen_ai.provider.name), the connection and the provider model (gateway model name) a gateway call
 * used, the end user it was made for, or the UTC day / hour the call started.
 */
export const COST_GROUPINGS = ['model', 'project', 'key', 'provider', 'connection', 'provider_model', 'user', 'day', 'hour'] as const;
export type CostGrouping = (typeof COST_GROUPINGS)[number];

export class CostsQueryDto {
  @ApiPropertyOptional({ description: 'Start (inclusive, ISO 8601); default: 30 days ago.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'End (exclusive, ISO 8601); default: now.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: COST_GROUPINGS, default: 'model' })
  @IsOptional()
  @IsIn(COST_GROUPINGS)
  groupBy?: CostGrouping;
}

export class CostGroupView {
  @ApiProperty({ description: 'The value grouped on (model name, project id, key id, provider, connection id, provider model, end user, UTC day YYYY-MM-DD or hour YYYY-MM-DDTHH:00Z); "(none)" when the record has none.' }) key!: string;
  @ApiProperty({ description: 'Calls in this group, including those with missing usage.' }) requests!: number;
  @ApiProperty({ description: 'All input tokens, cached ones included (OpenTelemetry’s gen_ai.usage.input_tokens).' }) inputTokens!: number;
  @ApiProperty({ description: 'Input tokens read from the provider’s cache (part of inputTokens).' }) cachedInputTokens!: number;
  @ApiProperty({ description: 'Input tokens written to the provider’s cache (part of inputTokens).' }) cacheWriteTokens!: number;
  @ApiProperty({ description: 'All output tokens, reasoning included.' }) outputTokens!: number;
  @ApiProperty({ description: 'Reasoning tokens (part of outputTokens).' }) reasoningTokens!: number;
  @ApiProperty({ example: '0.000123', description: 'USD, exact decimal string.' }) cost!: string;
  @ApiProperty({ description: 'Requests in this group with usage but no price (not counted in cost); a new definition or price version can price them.' })
  unpricedRequests!: number;
  @ApiProperty({ description: 'Requests in this group whose usage could not be read: no tokens, no cost (never $0), not in unpricedRequests.' })
  missingUsageRequests!: number;
  @ApiProperty({ description: 'Requests in this group cut short (a stream the client left or the upstream broke): their usage and cost are what was seen so far.' })
  partialUsageRequests!: number;
  @ApiProperty({ description: 'Requests in this group that failed (the span carries an error type), with or without usage.' })
  errorRequests!: number;
  @ApiProperty({ description: 'Requests in this group whose usage was estimated from the call’s text with its model’s tokenizer (a span without token counts, a stream left early), not reported by the provider.' })
  estimatedRequests!: number;
  @ApiProperty({ description: 'Requests in this group the gateway’s response cache answered: priced at 0 (no provider was called), their tokens those of the answer replayed.' })
  cacheHitRequests!: number;
}

export class CostReportView {
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: COST_GROUPINGS }) groupBy!: CostGrouping;
  @ApiProperty({ type: [CostGroupView] }) groups!: CostGroupView[];
  @ApiProperty({ example: '0.000123' }) totalCost!: string;
}

export const BOOLEAN_FILTERS = ['true', 'false'] as const;

class UsageRecordsFilterDto {
  @ApiPropertyOptional({ description: 'Calls started at or after (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: 'Calls started before (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: 'Only this model (exact name, as the report shows it).' })
  @IsOptional()
  @IsString()
  @Length(1, 512)
  model?: string;

  @ApiPropertyOptional({ enum: ['gateway', 'otlp'], description: 'Calls through the gateway, or spans sent to /v1/traces.' })
  @IsOptional()
  @IsIn(['gateway', 'otlp'])
  source?: 'gateway' | 'otlp';

  @ApiPropertyOptional({ enum: BOOLEAN_FILTERS, description: 'Only priced (true) or unpriced (false) records.' })
  @IsOptional()
  @IsIn(BOOLEAN_FILTERS)
  priced?: 'true' | 'false';

  @ApiPropertyOptional({ enum: BOOLEAN_FILTERS, description: 'Only records whose usage was estimated (true) or reported (false).' })
  @IsOptional()
  @IsIn(BOOLEAN_FILTERS)
  estimated?: 'true' | 'false';

}

/** GET /admin/usage/records (and /admin/usage/unpriced): newest first, filtered, a page at a time. */
export class UsageRecordsQueryDto extends IntersectionType(UsageRecordsFilterDto, pageQuery({ maxLimit: 500, defaultLimit: 50, cursorLength: [1, 512] })) {}

/** One usage record: the call, its tokens by usage type, and how it was priced (or why not). */
export class UsageRecordView {
  @ApiProperty() id!: string;
  @ApiProperty() traceId!: string;
  @ApiProperty() spanId!: string;
  @ApiProperty({ enum: ['gateway', 'otlp'] }) source!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ type: String, nullable: true }) provider!: string | null;
  @ApiProperty({ type: String, nullable: true }) connectionId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The gateway model name the caller asked for.' }) providerModel!: string | null;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty({ type: String, nullable: true }) keyId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The end user the call was made for, when the caller said.' }) userId!: string | null;
  @ApiProperty() startedAt!: string;
  @ApiProperty() inputTokens!: number;
  @ApiProperty() cachedInputTokens!: number;
  @ApiProperty() cacheWriteTokens!: number;
  @ApiProperty() outputTokens!: number;
  @ApiProperty() reasoningTokens!: number;
  @ApiProperty({ enum: ['reported', 'partial', 'missing'] }) usageStatus!: UsageStatus;
  @ApiProperty({ description: 'The usage was estimated from the call’s text with its model’s tokenizer.' }) estimated!: boolean;
  @ApiProperty({ type: String, nullable: true }) errorType!: string | null;
  @ApiProperty({ description: 'The gateway’s response cache answered the call: cost 0, no provider called.' }) cacheHit!: boolean;
  @ApiProperty() priced!: boolean;
  @ApiProperty({ type: String, nullable: true, example: '0.007885', description: 'USD, exact decimal string; null when unpriced (never $0).' }) cost!: string | null;
  @ApiProperty({ type: Object, nullable: true, description: 'Usage type -> exact decimal cost.' }) costBreakdown!: Partial<Record<UsageType, string>> | null;
  @ApiProperty({ type: String, nullable: true, description: 'The model definition that priced it (or matched it).' }) definitionId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The effective-from of the price version used.' }) priceEffectiveFrom!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why it has no cost: no_matching_definition, no_price_in_force, missing_price:<type>, inconsistent_usage, usage_missing.' })
  unpricedReason!: string | null;
}

export class UsageRecordsPageView {
  @ApiProperty({ type: [UsageRecordView] }) items!: UsageRecordView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

/** One record a re-price changed: its reason before, its outcome after. */
export class RepricedRecordView {
  @ApiProperty() id!: string;
  @ApiProperty() model!: string;
  @ApiProperty() previousReason!: string;
  @ApiProperty() priced!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'USD, exact decimal string, when now priced.' }) cost!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The new reason when still unpriced (e.g. a definition now matches but has no price in force).' }) unpricedReason!: string | null;
  @ApiProperty({ type: String, nullable: true }) definitionId!: string | null;
  @ApiProperty({ type: String, nullable: true }) priceEffectiveFrom!: string | null;
}

/** What POST /admin/usage/unpriced/reprice did. */
export class RepriceResultView {
  @ApiProperty({ description: 'Unpriced records looked at (usage-missing and inconsistent ones are never re-priced).' }) examined!: number;
  @ApiProperty({ description: 'Records that now have a cost.' }) priced!: number;
  @ApiProperty({ type: [RepricedRecordView] }) changed!: RepricedRecordView[];
}
