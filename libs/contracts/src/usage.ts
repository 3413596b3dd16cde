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
  @ApiProperty() requests!: number;
  @ApiProperty() inputTokens!: number;
  @ApiProperty() outputTokens!: number;
  @ApiProperty({ example: '0.000123', description: 'USD, exact decimal string.' }) cost!: string;
  @ApiProperty({ description: 'Requests in this group with no price (not counted in cost).' }) unpricedRequests!: number;
}

export class CostReportView {
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty() from!: string;
  @ApiProperty() to!: string;
  @ApiProperty({ enum: COST_GROUPINGS }) groupBy!: CostGrouping;
  @ApiProperty({ type: [CostGroupView] }) groups!: CostGroupView[];
  @ApiProperty({ example: '0.000123' }) totalCost!: string;
}
