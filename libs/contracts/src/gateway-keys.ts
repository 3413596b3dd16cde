import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { NAME_MESSAGE, NAME_PATTERN } from './connections.js';

export const KEY_ROLES = ['client', 'admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

/**
 * The one rule for which routes a key may call (README: Gateway keys): a client key calls /v1
 * only; an admin key calls /admin and /v1, where it is authenticated, limited, budgeted and
 * metered exactly like a client key (the evaluator and operators' smoke tests call /v1 with it).
 */
export const KEY_ROLE_DESCRIPTION =
  'client keys call /v1 only (403 forbidden on /admin); admin keys call /admin and also /v1, where they are limited, budgeted and metered like client keys.';

export const KEY_OWNER_KINDS = ['user', 'service'] as const;
export type KeyOwnerKind = (typeof KEY_OWNER_KINDS)[number];

/** Who a key belongs to: a person (name, email) or a service. Header templates read it as {{user}} / {{email}}. */
export class KeyOwnerDto {
  @ApiProperty({ enum: KEY_OWNER_KINDS, example: 'service' })
  @IsIn(KEY_OWNER_KINDS)
  kind!: KeyOwnerKind;

  @ApiProperty({ example: 'billing-service', description: "The user's or service's name; {{user}} in a connection's header templates." })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;

  @ApiPropertyOptional({ example: 'ada@example.com', description: "A user's email; {{email}} in header templates." })
  @IsOptional()
  @IsEmail()
  @MaxLength(320)
  email?: string;
}

export const BUDGET_PERIODS = ['day', 'month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];
export const BUDGET_MODES = ['hard', 'soft'] as const;
export type BudgetMode = (typeof BUDGET_MODES)[number];

/**
 * A spend budget per UTC day or month, in the currency of the model definitions' prices (USD).
 * hard: once the period's priced spend reaches the amount, /v1 answers 429 budget_exceeded until
 * the next period; soft: one audit entry (gateway_key.budget_exceeded) per period, calls go on.
 */
export class KeyBudgetDto {
  @ApiProperty({ example: '25.00', description: 'A decimal string, greater than zero, in the prices’ currency (USD).' })
  @IsString()
  @Matches(/^(?:0|[1-9][0-9]{0,17})(?:\.[0-9]{1,20})?$/, { message: '$property must be a decimal string such as 25 or 12.50' })
  @Matches(/[1-9]/, { message: '$property must be greater than zero' })
  amount!: string;

  @ApiProperty({ enum: BUDGET_PERIODS, description: 'UTC calendar day or month.' })
  @IsIn(BUDGET_PERIODS)
  period!: BudgetPeriod;

  @ApiProperty({ enum: BUDGET_MODES, description: 'hard: 429 budget_exceeded once spent; soft: an audit entry once crossed, per period.' })
  @IsIn(BUDGET_MODES)
  mode!: BudgetMode;
}

const KEY_MAX_PER_MINUTE = 1_000_000_000;

export class CreateGatewayKeyDto {
  @ApiProperty({ example: 'billing-service' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiPropertyOptional({ enum: KEY_ROLES, default: 'client', description: KEY_ROLE_DESCRIPTION })
  @IsOptional()
  @IsIn(KEY_ROLES)
  role?: KeyRole;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1-64 letters, digits, _ or -' })
  projectId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: KEY_MAX_PER_MINUTE, description: 'Calls per minute this key may make across every model and gateway replica (README: Rate limits); omit for none.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(KEY_MAX_PER_MINUTE)
  requestsPerMinute?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: KEY_MAX_PER_MINUTE, description: 'Tokens (input + output) per minute this key may use; estimated before a call, settled after it. Omit for none.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(KEY_MAX_PER_MINUTE)
  tokensPerMinute?: number;

  @ApiPropertyOptional({ example: '2027-01-31T00:00:00Z', description: 'From this instant the key is refused (401 key_expired) on every replica; omit for a key that does not expire.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  expiresAt?: string;

  @ApiPropertyOptional({ type: [String], example: ['gpt-4o-mini'], description: 'The only provider models this key may call (also through `name:params`, rewrites and failover); omit for every model of its scope. Any other model: 403 model_not_allowed.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @Matches(NAME_PATTERN, { each: true, message: 'each of $property must be a model name' })
  allowedModels?: string[];

  @ApiPropertyOptional({ minimum: 1, maximum: 30 * 24 * 3600, example: 300, description: 'The response cache for this key’s calls (README: Response cache): its answers are cached for this many seconds unless a request says `x-gateway-cache: off`; omit to cache only the requests that send `x-gateway-cache: on`.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(30 * 24 * 3600)
  cacheTtlSeconds?: number;
  @ApiPropertyOptional({ type: KeyOwnerDto, description: 'The user or service the key belongs to; omit for none.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => KeyOwnerDto)
  owner?: KeyOwnerDto;

  @ApiPropertyOptional({ type: KeyBudgetDto, description: 'A spend budget per day or month; omit for none.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => KeyBudgetDto)
  budget?: KeyBudgetDto;
}

const present = (_o: object, v: unknown): boolean => v !== null && v !== undefined;

/**
 * PATCH /admin/gateway-keys/{id}: the fields given replace the stored ones; null clears an
 * optional one (no limit, no expiry, every model, no owner, no budget). Live on every replica
 * within a second. The key itself, its role and its project never change.
 */
export class UpdateGatewayKeyDto {
  @ApiPropertyOptional({ example: 'billing-service' })
  @IsOptional()
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name?: string;

  @ApiPropertyOptional({ type: KeyOwnerDto, nullable: true })
  @ValidateIf(present)
  @ValidateNested()
  @Type(() => KeyOwnerDto)
  owner?: KeyOwnerDto | null;

  @ApiPropertyOptional({ type: [String], nullable: true, description: 'null = every model of its scope.' })
  @ValidateIf(present)
  @IsArray()
  @ArrayMaxSize(100)
  @ArrayUnique()
  @Matches(NAME_PATTERN, { each: true, message: 'each of $property must be a model name' })
  allowedModels?: string[] | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: KEY_MAX_PER_MINUTE })
  @ValidateIf(present)
  @IsInt()
  @Min(1)
  @Max(KEY_MAX_PER_MINUTE)
  requestsPerMinute?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: KEY_MAX_PER_MINUTE })
  @ValidateIf(present)
  @IsInt()
  @Min(1)
  @Max(KEY_MAX_PER_MINUTE)
  tokensPerMinute?: number | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: '2027-01-31T00:00:00Z' })
  @ValidateIf(present)
  @IsISO8601({ strict: true })
  expiresAt?: string | null;

  @ApiPropertyOptional({ type: KeyBudgetDto, nullable: true })
  @ValidateIf(present)
  @ValidateNested()
  @Type(() => KeyBudgetDto)
  budget?: KeyBudgetDto | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, maximum: 30 * 24 * 3600, description: 'null = only requests that ask are cached.' })
  @ValidateIf(present)
  @IsInt()
  @Min(1)
  @Max(30 * 24 * 3600)
  cacheTtlSeconds?: number | null;
}

export class KeyOwnerView {
  @ApiProperty({ enum: KEY_OWNER_KINDS }) kind!: KeyOwnerKind;
  @ApiProperty() name!: string;
  @ApiPropertyOptional() email?: string;
}

export class KeyBudgetView {
  @ApiProperty({ example: '25.00' }) amount!: string;
  @ApiProperty({ example: 'USD' }) currency!: string;
  @ApiProperty({ enum: BUDGET_PERIODS }) period!: BudgetPeriod;
  @ApiProperty({ enum: BUDGET_MODES }) mode!: BudgetMode;
  @ApiProperty({ type: String, nullable: true, example: '3.1415', description: 'Spent in the current period, as the answering replica knows it (about a second behind the calls).' })
  spent!: string | null;
}

export class GatewayKeyView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: KEY_ROLES, description: KEY_ROLE_DESCRIPTION }) role!: KeyRole;
  @ApiProperty({ example: 'sk-gw-AbCd', description: 'The first characters of the key, to recognise it.' }) prefix!: string;
  @ApiProperty({ type: Number, nullable: true }) requestsPerMinute!: number | null;
  @ApiProperty({ type: Number, nullable: true }) tokensPerMinute!: number | null;
  @ApiProperty({ type: String, nullable: true }) expiresAt!: string | null;
  @ApiProperty({ type: [String], nullable: true, description: 'null = every model of its scope.' }) allowedModels!: string[] | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Seconds its calls’ answers are cached by default; null = only requests that ask are cached.' }) cacheTtlSeconds!: number | null;
  @ApiProperty({ type: KeyOwnerView, nullable: true }) owner!: KeyOwnerView | null;
  @ApiProperty({ type: KeyBudgetView, nullable: true }) budget!: KeyBudgetView | null;
  @ApiProperty({ type: String, nullable: true }) revokedAt!: string | null;
  @ApiProperty() createdAt!: string;
}

export class CreatedGatewayKeyView extends GatewayKeyView {
  @ApiProperty({ description: 'The key itself. Shown once: only its hash is stored.' }) key!: string;
}
