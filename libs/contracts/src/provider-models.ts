import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { NAME_MESSAGE, NAME_PATTERN } from './connections.js';
import { modelParametersProblems, type ModelParameters } from './model-parameters.js';

export const PROVIDER_MODEL_KINDS = ['chat', 'completion', 'embedding'] as const;
/** Which /v1 endpoints may call the model: chat = /v1/chat/completions and /v1/messages, completion = /v1/completions, embedding = /v1/embeddings. */
export type ProviderModelKind = (typeof PROVIDER_MODEL_KINDS)[number];

export const PROVIDER_MODEL_STAGES = ['planning', 'tool_call', 'summarization', 'guardrail'] as const;
export type ProviderModelStage = (typeof PROVIDER_MODEL_STAGES)[number];

export const PROVIDER_MODEL_STATUSES = ['active', 'inactive'] as const;
/** An inactive model is kept but not routable: calls answer 404 model_not_found and /v1/models leaves it out. */
export type ProviderModelStatus = (typeof PROVIDER_MODEL_STATUSES)[number];

const MAX_TOKENS_LIMIT = 100_000_000;
const MAX_PER_MINUTE = 1_000_000_000;
const PROJECT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

function IsModelParameters(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isModelParameters',
      validator: {
        validate: (value: unknown) => modelParametersProblems(value).length === 0,
        defaultMessage: (args) => `$property: ${modelParametersProblems(args?.value).join('; ')}`,
      },
    },
    options,
  );
}

/** One place the model is served: a connection and the model id its upstream knows. */
export class ProviderModelTargetDto {
  @ApiProperty({ description: 'The connection the target is served through (it must exist in the model\'s scope).' })
  @IsString()
  @Length(1, 64)
  connectionId!: string;

  @ApiProperty({ example: 'gpt-4o-mini-2024-07-18', description: 'The model id sent upstream.' })
  @IsString()
  @Length(1, 256)
  upstreamModel!: string;

  @ApiPropertyOptional({ default: 1, minimum: 1, maximum: 1000, description: 'Share of the traffic by weight among the targets (load balancing, issue 15).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  weight?: number;
}

/** The parameters a request leaves out are filled from these (Swagger's view of defaultParameters). */
export class ModelParametersDoc implements ModelParameters {
  @ApiPropertyOptional({ minimum: 0, maximum: 2 }) temperature?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 1 }) top_p?: number;
  @ApiPropertyOptional({ minimum: 1, description: 'Anthropic-format requests only (OpenAI has no top_k).' }) top_k?: number;
  @ApiPropertyOptional({ minimum: 1, description: 'At most the model\'s maxOutputTokens.' }) max_tokens?: number;
  @ApiPropertyOptional({ minimum: -2, maximum: 2 }) presence_penalty?: number;
  @ApiPropertyOptional({ minimum: -2, maximum: 2 }) frequency_penalty?: number;
  @ApiPropertyOptional({ type: 'integer' }) seed?: number;
  @ApiPropertyOptional({ oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 4 }] }) stop?: string | string[];
}

/**
 * The fields create and PATCH share. A PATCH sends any subset; null clears a nullable field.
 * Limits are in tokens (requests for requestsPerMinute); the per-minute ones are enforced by the
 * gateway's policy (issue 15), the others on every call.
 */
class ProviderModelFields {
  @ApiPropertyOptional({ example: 'GPT-4o mini (team)', description: 'A name for people; clients use `name`.', type: String, nullable: true })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  displayName?: string | null;

  @ApiPropertyOptional({ enum: PROVIDER_MODEL_KINDS, default: 'chat', description: 'The endpoints that may call it; another endpoint answers 400 wrong_model_kind.' })
  @ValidateIf((o: ProviderModelFields) => o.kind !== undefined)
  @IsIn(PROVIDER_MODEL_KINDS)
  kind?: ProviderModelKind;

  @ApiPropertyOptional({ type: [ProviderModelTargetDto], description: 'Where the model is served, one or more (weights balance them). Instead of connectionId + upstreamModel.' })
  @ValidateIf((o: ProviderModelFields) => o.targets !== undefined)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(32)
  @ValidateNested({ each: true })
  @Type(() => ProviderModelTargetDto)
  targets?: ProviderModelTargetDto[];

  @ApiPropertyOptional({ type: [String], example: ['gpt-4o'], description: 'Provider models to fail over to, in order; each must exist in the same scope and the fallbacks must form no cycle.' })
  @ValidateIf((o: ProviderModelFields) => o.fallbacks !== undefined)
  @IsArray()
  @ArrayMaxSize(16)
  @ArrayUnique()
  @Matches(NAME_PATTERN, { each: true, message: 'each of $property must be a provider model name' })
  fallbacks?: string[];

  @ApiPropertyOptional({ default: false, description: 'Fail over to the other targets and the fallbacks when a call fails retryably, unless the request says otherwise (issue 15).' })
  @ValidateIf((o: ProviderModelFields) => o.failoverByDefault !== undefined)
  @IsBoolean()
  failoverByDefault?: boolean;

  @ApiPropertyOptional({ default: true, description: 'Whether the upstream streams; false = the gateway asks it for whole answers and streams them to clients itself.' })
  @ValidateIf((o: ProviderModelFields) => o.upstreamStreams !== undefined)
  @IsBoolean()
  upstreamStreams?: boolean;

  @ApiPropertyOptional({ default: false, description: 'Accepts images and other media besides text.' })
  @ValidateIf((o: ProviderModelFields) => o.multimodal !== undefined)
  @IsBoolean()
  multimodal?: boolean;

  @ApiPropertyOptional({ enum: PROVIDER_MODEL_STAGES, isArray: true, description: 'The agent stages the model is meant for.' })
  @ValidateIf((o: ProviderModelFields) => o.stages !== undefined)
  @IsArray()
  @ArrayUnique()
  @IsIn(PROVIDER_MODEL_STAGES, { each: true })
  stages?: ProviderModelStage[];

  @ApiPropertyOptional({ enum: PROVIDER_MODEL_STATUSES, default: 'active', description: 'inactive = kept but not routable.' })
  @ValidateIf((o: ProviderModelFields) => o.status !== undefined)
  @IsIn(PROVIDER_MODEL_STATUSES)
  status?: ProviderModelStatus;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 128000, description: 'Total tokens the model handles (input + output); larger than maxInputTokens.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  contextWindow?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 100000, description: 'Largest prompt accepted, in tokens of the model\'s tokenizer; more = 400 input_limit_exceeded.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  maxInputTokens?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Largest completion a request may ask; a request that asks none gets this.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  maxOutputTokens?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Requests per minute across the gateway replicas (enforced by the gateway policy, issue 15).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PER_MINUTE)
  requestsPerMinute?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Tokens per minute across the gateway replicas (enforced by the gateway policy, issue 15).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_PER_MINUTE)
  tokensPerMinute?: number | null;

  @ApiPropertyOptional({ type: ModelParametersDoc, description: 'Fill what a request leaves out (never override what it sends).' })
  @ValidateIf((o: ProviderModelFields) => o.defaultParameters !== undefined)
  @IsModelParameters()
  defaultParameters?: ModelParameters;
}

export class CreateProviderModelDto extends ProviderModelFields {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'The model name clients send; unique within the organisation.' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiPropertyOptional({ description: 'One-target form (kept from the first version): the connection the model is served through. Give either this and upstreamModel, or targets.' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  connectionId?: string;

  @ApiPropertyOptional({ example: 'gpt-4o-mini-2024-07-18', description: 'One-target form: the model id sent upstream.' })
  @IsOptional()
  @IsString()
  @Length(1, 256)
  upstreamModel?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(PROJECT_PATTERN, { message: '$property must be 1-64 letters, digits, _ or -' })
  projectId?: string;
}

/** PATCH /admin/provider-models/{id}: any subset of the fields; null clears a nullable one. The project cannot move. */
export class UpdateProviderModelDto extends ProviderModelFields {
  @ApiPropertyOptional({ description: 'A new name clients send (unique within the organisation).' })
  @ValidateIf((o: UpdateProviderModelDto) => o.name !== undefined)
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name?: string;
}

export interface UpdateProviderModelInput {
  id: string;
  patch: UpdateProviderModelDto;
  /** Bus only (the configuration import): `config:<file>` marks the model as managed by that file, null as managed through the API. */
  managedBy?: string | null;
}

/** Bus only: a create by the configuration import carries the file that manages the model. */
export interface ManagedByInput {
  managedBy?: string | null;
}

/** `config:<path under CONFIG_DIR>`: the only form a managedBy marker takes. */
export const MANAGED_BY_PATTERN = /^config:[A-Za-z0-9._/-]{1,512}$/;

/** The managedBy marker of a raw bus input, when it has a well-formed one. */
export function managedByOf(input: unknown): string | null | undefined {
  const value = typeof input === 'object' && input !== null ? (input as { managedBy?: unknown }).managedBy : undefined;
  if (value === null) return null;
  return typeof value === 'string' && MANAGED_BY_PATTERN.test(value) ? value : undefined;
}

export class ProviderModelTargetView {
  @ApiProperty() connectionId!: string;
  @ApiProperty() upstreamModel!: string;
  @ApiProperty() weight!: number;
}

export class ProviderModelView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true }) displayName!: string | null;
  @ApiProperty({ enum: PROVIDER_MODEL_KINDS }) kind!: ProviderModelKind;
  @ApiProperty({ type: [ProviderModelTargetView] }) targets!: ProviderModelTargetView[];
  @ApiProperty({ description: 'The first target\'s connection (the one-target form).' }) connectionId!: string;
  @ApiProperty({ description: 'The first target\'s upstream model (the one-target form).' }) upstreamModel!: string;
  @ApiProperty({ type: [String] }) fallbacks!: string[];
  @ApiProperty() failoverByDefault!: boolean;
  @ApiProperty() upstreamStreams!: boolean;
  @ApiProperty() multimodal!: boolean;
  @ApiProperty({ enum: PROVIDER_MODEL_STAGES, isArray: true }) stages!: ProviderModelStage[];
  @ApiProperty({ enum: PROVIDER_MODEL_STATUSES }) status!: ProviderModelStatus;
  @ApiProperty({ type: Number, nullable: true }) contextWindow!: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxInputTokens!: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxOutputTokens!: number | null;
  @ApiProperty({ type: Number, nullable: true }) requestsPerMinute!: number | null;
  @ApiProperty({ type: Number, nullable: true }) tokensPerMinute!: number | null;
  @ApiProperty({ type: ModelParametersDoc }) defaultParameters!: ModelParameters;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'config:backends/internal-llm/backend.yaml',
    description: 'config:<file> when the model comes from a configuration file (CONFIG_DIR; the next import overwrites changes made here); null when managed through this API.',
  })
  managedBy?: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({ type: String, nullable: true, description: 'When a call was last metered for this model (kept by metering in batches; null = never).' }) lastUsedAt!: string | null;
}
