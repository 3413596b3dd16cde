import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches } from 'class-validator';
import { NAME_MESSAGE, NAME_PATTERN } from './connections.js';

export const KEY_ROLES = ['client', 'admin'] as const;
export type KeyRole = (typeof KEY_ROLES)[number];

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
}

export class GatewayKeyView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: KEY_ROLES }) role!: KeyRole;
  @ApiProperty({ example: 'sk-gw-AbCd', description: 'The first characters of the key, to recognise it.' }) prefix!: string;
  @ApiProperty({ type: String, nullable: true }) revokedAt!: string | null;
  @ApiProperty() createdAt!: string;
}

export class CreatedGatewayKeyView extends GatewayKeyView {
  @ApiProperty({ description: 'The key itself. Shown once: only its hash is stored.' }) key!: string;
}
