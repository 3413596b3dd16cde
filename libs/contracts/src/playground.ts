import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';

export class PlaygroundMessageDto {
  @ApiProperty({ enum: ['system', 'user', 'assistant'] })
  @IsIn(['system', 'user', 'assistant'])
  role!: 'system' | 'user' | 'assistant';

  @ApiProperty()
  @IsString()
  @MaxLength(1_000_000)
  content!: string;
}

/** A prompt and its parameters, as the playground and evaluation tasks send it to /v1/chat/completions. */
export class PromptDto {
  @ApiProperty({ type: [PlaygroundMessageDto], description: 'In an evaluation task, each content is a Mustache template rendered per dataset row.' })
  @ValidateNested({ each: true })
  @Type(() => PlaygroundMessageDto)
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  messages!: PlaygroundMessageDto[];

  @ApiPropertyOptional({ minimum: 1, maximum: 1_000_000 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  maxTokens?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: 2 })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number;
}

export class CreatePlaygroundRunDto extends PromptDto {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'A model name clients use (a provider model).' })
  @IsString()
  @Length(1, 128)
  model!: string;
}

/**
 * The command the gateway sends the evaluator: the run. The evaluator calls /v1 with a delegated
 * token it asks a gateway for (gateway.v1.delegations.mint); the admin's key never travels.
 */
export interface PlaygroundRunCommand {
  run: CreatePlaygroundRunDto;
}

export class PlaygroundRunView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: ['succeeded', 'failed'] }) status!: 'succeeded' | 'failed';
  @ApiProperty({ type: String, nullable: true }) output!: string | null;
  @ApiProperty({ type: Number, nullable: true }) inputTokens!: number | null;
  @ApiProperty({ type: Number, nullable: true }) outputTokens!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the run failed, as the gateway answered.' }) error!: string | null;
  @ApiProperty() latencyMs!: number;
  @ApiProperty() createdAt!: string;
}

/** One prompt (messages, parameters, tools) for several models at once; the answers stream back multiplexed. */
export class CreatePlaygroundSessionDto extends PromptDto {
  @ApiProperty({ type: [String], example: ['gpt-4o-mini', 'claude-sonnet', 'llama-local'], description: 'Model names clients use (provider models), 1 to 8, each once.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(8)
  @ArrayUnique()
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  models!: string[];

  @ApiPropertyOptional({ type: 'array', items: { type: 'object' }, description: 'OpenAI-format tools ({"type":"function","function":{...}}), passed to every model.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(128)
  @IsObject({ each: true })
  tools?: Record<string, unknown>[];
}

export interface PlaygroundStreamCommand {
  /** Chosen by the gateway, which relays this session's stream events to its client. */
  sessionId: string;
  /** A new prompt, or (rerunOf) the saved prompt of an earlier session. */
  session?: CreatePlaygroundSessionDto;
  rerunOf?: string;
}

export class PlaygroundModelResultView {
  @ApiProperty() runId!: string;
  @ApiProperty() model!: string;
  @ApiProperty({ enum: ['succeeded', 'failed'] }) status!: 'succeeded' | 'failed';
  @ApiProperty({ type: String, nullable: true }) output!: string | null;
  @ApiPropertyOptional({ type: 'array', items: { type: 'object' }, nullable: true, description: 'Tool calls the model made.' }) toolCalls!: unknown[] | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty() latencyMs!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Time to the first streamed token.' }) ttftMs!: number | null;
  @ApiProperty({ type: Number, nullable: true }) inputTokens!: number | null;
  @ApiProperty({ type: Number, nullable: true }) outputTokens!: number | null;
  @ApiProperty({ type: String, nullable: true }) traceId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Exact decimal from metering; null until priced (read the session again later).' }) cost!: string | null;
}

export class PlaygroundSessionView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The session this one re-ran.' }) rerunOf!: string | null;
  @ApiProperty({ type: CreatePlaygroundSessionDto }) request!: CreatePlaygroundSessionDto;
  @ApiProperty({ type: [PlaygroundModelResultView] }) results!: PlaygroundModelResultView[];
  @ApiProperty() createdAt!: string;
}

/** One event of a playground stream, published by the evaluator and relayed as SSE by the gateway holding the client. */
export interface PlaygroundStreamEvent {
  sessionId: string;
  model: string;
  type: 'start' | 'delta' | 'done';
  /** delta: the text piece. */
  text?: string;
  /** done: the model's result. */
  result?: PlaygroundModelResultView;
}
