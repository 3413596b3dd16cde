import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';

/**
 * What a cost report groups by: the priced model, the project, the gateway key, the provider
 * (gen_ai.provider.name), the connection and the provider model (gateway model name) a gateway call
 * used, or the UTC day / hour the call started.
 */
export const COST_GROUPINGS = ['model', 'project', 'key', 'provider', 'connection', 'provider_model', 'day', 'hour'] as const;
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
  @ApiProperty({ description: 'The value grouped on (model name, project id, key id, provider, connection id, provider model, UTC day YYYY-MM-DD or hour YYYY-MM-DDTHH:00Z); "(none)" when the record has none.' }) key!: string;
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
}

export class CostReportView {
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: COST_GROUPINGS }) groupBy!: CostGrouping;
  @ApiProperty({ type: [CostGroupView] }) groups!: CostGroupView[];
  @ApiProperty({ example: '0.000123' }) totalCost!: string;
}
