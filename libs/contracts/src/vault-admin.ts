import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional } from 'class-validator';

/** POST /admin/vault/rotate-master-key */
export class RotateMasterKeyDto {
  @ApiPropertyOptional({
    description:
      'Generate the new key (embedded mode with its generated key file only). Without it the vault re-reads VAULT_MASTER_KEY_FILE, whose first key becomes the active one.',
  })
  @IsOptional()
  @IsBoolean()
  generateKey?: boolean;
}

export class MasterKeyRotationView {
  @ApiProperty({ example: '3f9a01bc' }) activeMasterKeyId!: string;
  @ApiProperty({ example: '77c0e2d4' }) previousActiveMasterKeyId!: string;
  @ApiProperty({ description: 'Data keys re-wrapped under the active key by this run.' }) rewrapped!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    description: 'Connections still wrapped by another key (one this vault cannot read, or one a failed row kept): empty once the old keys may be removed.',
  })
  remainingByMasterKeyId!: Record<string, number>;
}
