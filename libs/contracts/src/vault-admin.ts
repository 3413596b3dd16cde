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

/** One problem of a configuration file, by field as the file spells it. */
export class ConfigFieldErrorView {
  @ApiProperty({ example: 'models.fast-model.limits.context_window' }) field!: string;
  @ApiProperty() message!: string;
}

export class ConfigModelResultView {
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['created', 'updated', 'unchanged', 'deleted'] }) status!: 'created' | 'updated' | 'unchanged' | 'deleted';
}

export class ConfigFileResultView {
  @ApiProperty({ example: 'backends/internal-llm/backend.yaml', description: 'Relative to CONFIG_DIR.' }) path!: string;
  @ApiProperty({
    enum: ['created', 'updated', 'unchanged', 'invalid', 'failed'],
    description: 'invalid: nothing of the file was written (errors say why); failed: a write was refused part-way (errors say which).',
  })
  status!: 'created' | 'updated' | 'unchanged' | 'invalid' | 'failed';
  @ApiPropertyOptional() connectionId?: string;
  @ApiPropertyOptional({ type: [ConfigModelResultView] }) models?: ConfigModelResultView[];
  @ApiPropertyOptional({ type: [ConfigFieldErrorView] }) errors?: ConfigFieldErrorView[];
}

/** POST /admin/config/import */
export class ConfigImportReportView {
  @ApiProperty({ description: 'The directory read (CONFIG_DIR).' }) directory!: string;
  @ApiProperty({ description: 'False when the directory does not exist: nothing to import, not an error.' }) found!: boolean;
  @ApiProperty({ type: [ConfigFileResultView] }) files!: ConfigFileResultView[];
}

export class ConfigExportFileView {
  @ApiProperty({ example: 'backends/internal-llm/backend.yaml' }) path!: string;
  @ApiProperty({ description: 'The file, in the import format, without secrets.' }) content!: string;
}

/** GET /admin/config/export */
export class ConfigExportView {
  @ApiProperty({ type: [ConfigExportFileView] }) files!: ConfigExportFileView[];
  @ApiProperty({ type: [String], description: 'What the format cannot hold, and why (e.g. a model routed to several connections, a stored key).' }) notes!: string[];
}
