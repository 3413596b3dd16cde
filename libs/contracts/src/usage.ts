import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional } from 'class-validator';

export const COST_GROUPINGS = ['model', 'project', 'key'] as const;
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
  @ApiProperty({ description: 'The value grouped on (model name, project id or key id).' }) key!: string;
  @ApiProperty({ description: 'Calls in this group, including those with missing usage.' }) requests!: number;
  @ApiProperty() inputTokens!: number;
  @ApiProperty() outputTokens!: number;
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
