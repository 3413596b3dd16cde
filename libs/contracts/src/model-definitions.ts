import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches, ValidateBy, type ValidationOptions } from 'class-validator';
import { NAME_MESSAGE, NAME_PATTERN } from './connections.js';

/** Usage types a price can be given for (DESIGN.md, pricing rules). */
export const USAGE_TYPES = ['input', 'output', 'cache_read', 'cache_write', 'reasoning'] as const;
export type UsageType = (typeof USAGE_TYPES)[number];

export const TOKENIZERS = ['o200k_base', 'cl100k_base', 'p50k_base', 'r50k_base', 'none'] as const;
export type TokenizerId = (typeof TOKENIZERS)[number];

/** A non-negative decimal written as a string, so no digit is lost to a float. */
export const DECIMAL_STRING = /^(0|[1-9]\d{0,17})(\.\d{1,30})?$/;

function IsPriceMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPriceMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length > 0 &&
          Object.entries(value).every(([k, v]) => (USAGE_TYPES as readonly string[]).includes(k) && typeof v === 'string' && DECIMAL_STRING.test(v)),
        defaultMessage: () =>
          `$property must map usage types (${USAGE_TYPES.join(', ')}) to prices per token written as decimal strings, e.g. "0.0000025"`,
      },
    },
    options,
  );
}

export class CreateModelDefinitionDto {
  @ApiProperty({ example: 'gpt-4o-mini' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ example: '(?i)^(openai/)?gpt-4o-mini(-\\d{4}-\\d{2}-\\d{2})?$', description: 'RE2 regular expression matched against the model name of a span.' })
  @IsString()
  @Length(1, 1024)
  matchPattern!: string;

  @ApiPropertyOptional({ enum: TOKENIZERS, default: 'o200k_base' })
  @IsOptional()
  @IsIn(TOKENIZERS)
  tokenizer?: TokenizerId;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { input: '0.00000015', output: '0.0000006' },
    description: 'Price in USD per token for each usage type, as decimal strings.',
  })
  @IsPriceMap()
  prices!: Partial<Record<UsageType, string>>;

  @ApiPropertyOptional({ description: 'When these prices take effect (ISO 8601); defaults to now.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  effectiveFrom?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1-64 letters, digits, _ or -' })
  projectId?: string;
}

export class PriceVersionView {
  @ApiProperty() effectiveFrom!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) prices!: Partial<Record<UsageType, string>>;
}

export class ModelDefinitionView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty() matchPattern!: string;
  @ApiProperty({ enum: TOKENIZERS }) tokenizer!: TokenizerId;
  @ApiProperty({ type: [PriceVersionView], description: 'Price versions, oldest first.' }) priceVersions!: PriceVersionView[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}
