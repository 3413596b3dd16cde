import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { NAME_MESSAGE, NAME_PATTERN } from './connections.js';

export class CreateProviderModelDto {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'The model name clients send; unique within the organisation.' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ description: 'The connection the model is served through.' })
  @IsString()
  @Length(1, 64)
  connectionId!: string;

  @ApiProperty({ example: 'gpt-4o-mini-2024-07-18', description: 'The model id sent upstream.' })
  @IsString()
  @Length(1, 256)
  upstreamModel!: string;

  @ApiPropertyOptional({ description: 'Largest prompt accepted, in tokens.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  maxInputTokens?: number;

  @ApiPropertyOptional({ description: 'Largest completion allowed, in tokens.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000_000)
  maxOutputTokens?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1-64 letters, digits, _ or -' })
  projectId?: string;
}

export class ProviderModelView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty() connectionId!: string;
  @ApiProperty() upstreamModel!: string;
  @ApiProperty({ type: Number, nullable: true }) maxInputTokens!: number | null;
  @ApiProperty({ type: Number, nullable: true }) maxOutputTokens!: number | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}
