import { PageQueryDto } from './page-query.js';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { NAME_MESSAGE, NAME_PATTERN } from './connections.js';

/**
 * Usage types a price can be given for (DESIGN.md, pricing rules). Each token of a call is in
 * exactly one of them: `input` is the uncached text input, `cache_read`/`cache_write` the cached
 * parts, `output` the text output, `reasoning` the reasoning part of the output; the audio and image
 * types are the non-text parts a provider reports apart. A part without its own price takes its
 * parent's (USAGE_PRICE_FALLBACK).
 */
export const USAGE_TYPES = ['input', 'output', 'cache_read', 'cache_write', 'reasoning', 'input_audio', 'output_audio', 'input_image', 'output_image'] as const;
export type UsageType = (typeof USAGE_TYPES)[number];

/** Where a part without its own price takes its price from (DESIGN.md: never silently zero). */
export const USAGE_PRICE_FALLBACK: Readonly<Partial<Record<UsageType, UsageType>>> = {
  cache_read: 'input',
  cache_write: 'input',
  reasoning: 'output',
  input_audio: 'input',
  input_image: 'input',
  output_audio: 'output',
  output_image: 'output',
};

/**
 * How a definition counts tokens: a public BPE encoding (exact), `approximate` for models whose
 * tokenizer is not public (about one token per four UTF-8 bytes: counts made with it are marked
 * approximate), or `none` (never counted locally).
 */
export const TOKENIZERS = ['o200k_base', 'cl100k_base', 'p50k_base', 'r50k_base', 'approximate', 'none'] as const;
export type TokenizerId = (typeof TOKENIZERS)[number];

export const TOKEN_COUNT_ACCURACIES = ['exact', 'approximate', 'none'] as const;
export type TokenCountAccuracy = (typeof TOKEN_COUNT_ACCURACIES)[number];

/** What a count made with this tokenizer is: exact for a public encoding, approximate for the approximation. */
export function tokenCountAccuracy(tokenizer: TokenizerId): TokenCountAccuracy {
  return tokenizer === 'approximate' ? 'approximate' : tokenizer === 'none' ? 'none' : 'exact';
}

/** Who wrote a definition: an admin (`user`) or the built-in catalogue (`system`, read-only). */
export const DEFINITION_SOURCES = ['user', 'system'] as const;
export type DefinitionSource = (typeof DEFINITION_SOURCES)[number];

/** The organisation id System definitions are stored under: they are every organisation's. */
export const SYSTEM_ORGANISATION_ID = '_system';

export const TIER_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const;
export type TierOperator = (typeof TIER_OPERATORS)[number];

/** The name of the tier a plain `prices` map becomes. */
export const DEFAULT_TIER_NAME = 'default';

/** A non-negative decimal written as a string, so no digit is lost to a float. */
export const DECIMAL_STRING = /^(0|[1-9]\d{0,17})(\.\d{1,30})?$/;

export type PriceMap = Partial<Record<UsageType, string>>;

export function isPriceMap(value: unknown): value is PriceMap {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.entries(value).every(([k, v]) => (USAGE_TYPES as readonly string[]).includes(k) && typeof v === 'string' && DECIMAL_STRING.test(v))
  );
}

function IsPriceMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPriceMap',
      validator: {
        validate: isPriceMap,
        defaultMessage: () => `$property must map usage types (${USAGE_TYPES.join(', ')}) to prices per token written as decimal strings, e.g. "0.0000025"`,
      },
    },
    options,
  );
}

const PRICES_API = {
  type: 'object',
  additionalProperties: { type: 'string' },
  example: { input: '0.00000015', output: '0.0000006' },
  description: `Price in USD per token (per unit) for each usage type (${USAGE_TYPES.join(', ')}), as decimal strings.`,
} as const;

/**
 * A tier applies when the usage of a record satisfies it: the tokens of `usageTypes` (summed)
 * compared with `value`. "Input tokens above 200,000" is
 * `{ usageTypes: ['input', 'cache_read', 'cache_write'], operator: 'gt', value: 200000 }`.
 */
export class TierConditionDto {
  @ApiProperty({ enum: USAGE_TYPES, isArray: true, example: ['input', 'cache_read', 'cache_write'], description: 'Usage types whose tokens are summed.' })
  @IsIn(USAGE_TYPES, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(USAGE_TYPES.length)
  usageTypes!: UsageType[];

  @ApiProperty({ enum: TIER_OPERATORS })
  @IsIn(TIER_OPERATORS)
  operator!: TierOperator;

  @ApiProperty({ example: 200000, description: 'A token count.' })
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  value!: number;
}

export class PriceTierDto {
  @ApiProperty({ example: 'long context' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 ._()>=<-]{0,63}$/, { message: '$property must be 1-64 letters, digits, spaces or ._()<>=-, starting with a letter or digit' })
  name!: string;

  @ApiProperty({ description: 'Exactly one tier is the default: it has no conditions and applies when no other does.' })
  @IsBoolean()
  isDefault!: boolean;

  @ApiPropertyOptional({ description: 'Non-default tiers are tried in ascending priority; the first whose conditions all hold wins.', default: 0 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1000)
  priority?: number;

  @ApiPropertyOptional({ type: [TierConditionDto] })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => TierConditionDto)
  @ArrayMaxSize(20)
  conditions?: TierConditionDto[];

  @ApiProperty(PRICES_API)
  @IsPriceMap()
  prices!: PriceMap;
}

/** Prices of a version: a plain map (one default tier) or tiers. */
export class PriceVersionInput {
  @ApiPropertyOptional({ ...PRICES_API, description: `${PRICES_API.description} Shorthand for one default tier; give either prices or tiers.` })
  @IsOptional()
  @IsPriceMap()
  prices?: PriceMap;

  @ApiPropertyOptional({ type: [PriceTierDto], description: 'Pricing tiers (Langfuse’s model): one default tier and conditional tiers.' })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => PriceTierDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  tiers?: PriceTierDto[];

  @ApiPropertyOptional({ description: 'When these prices take effect (ISO 8601); defaults to now.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  effectiveFrom?: string;
}

/** POST /admin/model-definitions/{id}/versions: a new price version; no version is ever rewritten. */
export class AddPriceVersionDto extends PriceVersionInput {}

export class CreateModelDefinitionDto extends PriceVersionInput {
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

  @ApiPropertyOptional({ default: 0, description: 'Among matching definitions of the same source and level, the higher priority wins (see README, "Which definition prices a call").' })
  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1-64 letters, digits, _ or -' })
  projectId?: string;
}

/** PATCH /admin/model-definitions/{id}: what a definition is, not what it costs (prices change by versions). */
export class UpdateModelDefinitionDto {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Length(1, 1024)
  matchPattern?: string;

  @ApiPropertyOptional({ enum: TOKENIZERS })
  @IsOptional()
  @IsIn(TOKENIZERS)
  tokenizer?: TokenizerId;

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(-1000)
  @Max(1000)
  priority?: number;
}

export class TierConditionView {
  @ApiProperty({ enum: USAGE_TYPES, isArray: true }) usageTypes!: UsageType[];
  @ApiProperty({ enum: TIER_OPERATORS }) operator!: TierOperator;
  @ApiProperty() value!: number;
}

export class PriceTierView {
  @ApiProperty() name!: string;
  @ApiProperty() isDefault!: boolean;
  @ApiProperty() priority!: number;
  @ApiProperty({ type: [TierConditionView] }) conditions!: TierConditionView[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) prices!: PriceMap;
}

export class PriceVersionView {
  @ApiProperty() effectiveFrom!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'The default tier’s prices.' }) prices!: PriceMap;
  @ApiProperty({ type: [PriceTierView], description: 'Default tier first, then the others in priority order.' }) tiers!: PriceTierView[];
}

export class UsageTypePriceView {
  @ApiProperty({ enum: USAGE_TYPES }) usageType!: UsageType;
  @ApiProperty({ example: '0.000000075' }) perUnit!: string;
  @ApiProperty({ example: '0.000075' }) per1K!: string;
  @ApiProperty({ example: '0.075' }) per1M!: string;
  @ApiProperty({ enum: USAGE_TYPES, nullable: true, description: 'Set when the tier has no own price for this type and the parent’s applies.' })
  inheritedFrom!: UsageType | null;
}

export class TierPreviewView {
  @ApiProperty() name!: string;
  @ApiProperty() isDefault!: boolean;
  @ApiProperty() priority!: number;
  @ApiProperty({ type: [TierConditionView] }) conditions!: TierConditionView[];
  @ApiProperty({ type: [UsageTypePriceView], description: 'Every usage type this tier prices, own or inherited; exact decimal strings.' })
  usageTypes!: UsageTypePriceView[];
}

export class PricePreviewView {
  @ApiProperty() definitionId!: string;
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty({ description: 'The version previewed: the one in force at the instant asked for (default now).' }) effectiveFrom!: string;
  @ApiProperty({ type: [TierPreviewView] }) tiers!: TierPreviewView[];
}

export class ModelDefinitionView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty() matchPattern!: string;
  @ApiProperty({ enum: TOKENIZERS }) tokenizer!: TokenizerId;
  @ApiProperty({ enum: TOKEN_COUNT_ACCURACIES, description: '"approximate" when the model has no public tokenizer: counts made with it are estimates.' })
  tokenCount!: TokenCountAccuracy;
  @ApiProperty({ enum: DEFINITION_SOURCES, description: 'user: written by an admin; system: the built-in catalogue (read-only, overridden by any matching user definition).' })
  source!: DefinitionSource;
  @ApiProperty() priority!: number;
  @ApiProperty({ type: [PriceVersionView], description: 'Price versions, oldest first.' }) priceVersions!: PriceVersionView[];
  @ApiProperty({ type: PricePreviewView, nullable: true, description: 'The prices in force now per tier, per unit, 1K and 1M; null when no version is in force yet.' })
  preview!: PricePreviewView | null;
  @ApiProperty({ type: String, nullable: true, description: 'The start of the latest call priced with this definition (kept from metering in batches).' })
  lastUsedAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export const DEFINITION_LIST_SOURCES = ['user', 'system', 'all'] as const;
export type DefinitionListSource = (typeof DEFINITION_LIST_SOURCES)[number];

/** GET /admin/model-definitions: the caller's own (user) definitions by default; `system` for the built-in catalogue, `all` for both. */
export class ListModelDefinitionsDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DEFINITION_LIST_SOURCES, default: 'user' })
  @IsOptional()
  @IsIn(DEFINITION_LIST_SOURCES)
  source?: DefinitionListSource;
}

export class PreviewQueryDto {
  @ApiPropertyOptional({ description: 'Preview the version in force at this instant (ISO 8601); default now.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  at?: string;
}

/** What the gateway reads of every definition to count a model's tokens with its tokenizer (by the same winner rule as pricing). */
export interface DefinitionTokenizerView {
  id: string;
  organisationId: string;
  projectId: string | null;
  matchPattern: string;
  tokenizer: TokenizerId;
  source: DefinitionSource;
  priority: number;
  updatedAt: string;
}

/** One batch of "last used" times from metering: the latest call start per definition and per gateway model. */
export interface LastUsedBatch {
  definitions: { id: string; at: string }[];
  providerModels: { organisationId: string; name: string; at: string }[];
}
