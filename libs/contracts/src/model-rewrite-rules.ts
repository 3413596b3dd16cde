import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';

/**
 * 002's model-name rewrites: a model name that is neither a provider model nor `slug/model` is
 * matched against the rules in `position` order; the first whose RE2 pattern matches the whole name
 * rewrites it into `target` ($1, $2 ... insert the pattern's groups), which then names a provider
 * model or a `slug/model`.
 */
const PATTERN_DOC = {
  example: 'gpt-4o-mini(-.*)?',
  description: 'An RE2 pattern (linear-time; no backreferences or lookaround), matched against the whole requested model name.',
} as const;
const TARGET_DOC = { example: 'team-gpt', description: 'The model name it becomes: a provider model name or slug/model; $1 ... insert the pattern\'s groups.' } as const;
const POSITION_DOC = { default: 100, description: 'Rules are tried by ascending position (then creation time).' } as const;

export class CreateModelRewriteRuleDto {
  @ApiProperty(PATTERN_DOC)
  @IsString()
  @Length(1, 512)
  pattern!: string;

  @ApiProperty(TARGET_DOC)
  @IsString()
  @Length(1, 256)
  target!: string;

  @ApiPropertyOptional(POSITION_DOC)
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  position?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1-64 letters, digits, _ or -' })
  projectId?: string;
}

/** PATCH: any subset; none of the fields can be cleared. */
export class UpdateModelRewriteRuleDto {
  @ApiPropertyOptional(PATTERN_DOC)
  @ValidateIf((o: UpdateModelRewriteRuleDto) => o.pattern !== undefined)
  @IsString()
  @Length(1, 512)
  pattern?: string;

  @ApiPropertyOptional(TARGET_DOC)
  @ValidateIf((o: UpdateModelRewriteRuleDto) => o.target !== undefined)
  @IsString()
  @Length(1, 256)
  target?: string;

  @ApiPropertyOptional(POSITION_DOC)
  @ValidateIf((o: UpdateModelRewriteRuleDto) => o.position !== undefined)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  position?: number;
}

export interface UpdateModelRewriteRuleInput {
  id: string;
  patch: UpdateModelRewriteRuleDto;
}

export class ModelRewriteRuleView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() pattern!: string;
  @ApiProperty() target!: string;
  @ApiProperty() position!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}
