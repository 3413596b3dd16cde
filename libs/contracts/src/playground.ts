import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsIn, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';

export class PlaygroundMessageDto {
  @ApiProperty({ enum: ['system', 'user', 'assistant'] })
  @IsIn(['system', 'user', 'assistant'])
  role!: 'system' | 'user' | 'assistant';

  @ApiProperty()
  @IsString()
  @MaxLength(1_000_000)
  content!: string;
}

export class CreatePlaygroundRunDto {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'A model name clients use (a provider model).' })
  @IsString()
  @Length(1, 128)
  model!: string;

  @ApiProperty({ type: [PlaygroundMessageDto] })
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
