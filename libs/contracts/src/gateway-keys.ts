import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { NAME_MESSAGE, NAME_PATTERN } from './connections.js';

export const KEY_ROLES = ['client', 'admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

const KEY_MAX_PER_MINUTE = 1_000_000_000;

export class CreateGatewayKeyDto {
  @ApiProperty({ example: 'billing-service' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiPropertyOptional({ enum: KEY_ROLES, default: 'client', description: 'client keys call /v1; admin keys call /admin.' })
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
}

export class GatewayKeyView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: KEY_ROLES }) role!: KeyRole;
  @ApiProperty({ example: 'sk-gw-AbCd', description: 'The first characters of the key, to recognise it.' }) prefix!: string;
  @ApiProperty({ type: Number, nullable: true }) requestsPerMinute!: number | null;
  @ApiProperty({ type: Number, nullable: true }) tokensPerMinute!: number | null;
  @ApiProperty({ type: String, nullable: true }) revokedAt!: string | null;
  @ApiProperty() createdAt!: string;
}

export class CreatedGatewayKeyView extends GatewayKeyView {
  @ApiProperty({ description: 'The key itself. Shown once: only its hash is stored.' }) key!: string;
}
