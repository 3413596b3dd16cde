import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { PageQueryDto } from './page-query.js';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';

/** The services whose audit logs GET /admin/audit-log reads as one. */
export const AUDIT_SERVICES = ['gateway', 'credential-vault', 'model-registry'] as const;
export type AuditService = (typeof AUDIT_SERVICES)[number];

/** The kinds of resource audited: the part of an action before its dot (connection.created -> connection). */
export const AUDIT_RESOURCE_TYPES = ['connection', 'master_key', 'config', 'provider_model', 'model_definition', 'model_rewrite_rule', 'gateway_key', 'playground'] as const;

/** The filters of the audit log, every one optional. */
export class AuditLogFilterDto {
  @ApiPropertyOptional({ description: "The actor: a gateway key id (key_...) or the key's name; `system` for what a service did itself." })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  actor?: string;

  @ApiPropertyOptional({ example: 'connection.revealed', description: 'One action, e.g. connection.created, connection.revealed, provider_model.updated, gateway_key.revoked, config.imported, master_key.rotated.' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: '$property must be an action such as connection.created' })
  action?: string;

  @ApiPropertyOptional({ description: 'The resource: the id of the row acted on (conn_..., a provider model id, key_...), or a resource type.', example: 'connection' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  resource?: string;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'Entries at or after this time (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: '$property must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z' })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-31T00:00:00Z', description: 'Entries before this time (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: '$property must be an ISO 8601 time, e.g. 2026-12-31T00:00:00Z' })
  to?: string;

}

/** GET /admin/audit-log: newest first. */
export class AuditLogQueryDto extends IntersectionType(AuditLogFilterDto, PageQueryDto) {}

/** Where a page stops: entries strictly older than (at, id) come next. */
export interface AuditLogPosition {
  at: string;
  id: string;
}

/** What each service answers for: the query's filters, up to `limit` entries older than `before`, newest first. */
export interface AuditLogListInput {
  actor?: string;
  action?: string;
  resource?: string;
  from?: string;
  to?: string;
  limit: number;
  before?: AuditLogPosition;
}

class AuditLogPositionDto implements AuditLogPosition {
  @IsISO8601({ strict: true })
  at!: string;

  @IsString()
  @MaxLength(128)
  id!: string;
}

/** The bus form of AuditLogListInput, checked by each service (the bus has other clients than the gateway). */
export class AuditLogListInputDto extends AuditLogFilterDto {
  /** One more than a page, so the gateway knows whether another page follows. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(201)
  limit?: number;

  @IsOptional()
  @ValidateNested()
  @Type(() => AuditLogPositionDto)
  before?: AuditLogPositionDto;
}

export class AuditLogActorView {
  @ApiProperty({ example: 'key_01h...', description: 'The gateway key, `system` for a service itself, `anonymous` for a caller without a known key.' }) keyId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The project the actor was scoped to (null: organisation-wide).' }) projectId!: string | null;
}

export class AuditLogEntryView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: AUDIT_SERVICES, description: 'The service that recorded it.' }) service!: AuditService;
  @ApiProperty({ type: String, nullable: true }) organisationId!: string | null;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty({ type: AuditLogActorView }) actor!: AuditLogActorView;
  @ApiProperty({ example: 'connection.revealed' }) action!: string;
  @ApiProperty({ example: 'connection', description: 'The resource type (the action before its dot).' }) resourceType!: string;
  @ApiProperty({ type: String, nullable: true, description: 'The id of the row acted on; null when there is none (a refused create).' }) resourceId!: string | null;
  @ApiProperty({ enum: ['succeeded', 'denied', 'failed'] }) outcome!: 'succeeded' | 'denied' | 'failed';
  @ApiProperty({ type: String, nullable: true }) reason!: string | null;
  @ApiProperty({ type: 'object', nullable: true, additionalProperties: true, description: 'What the service noted (field names changed, counts): never a secret.' })
  details!: Record<string, unknown> | null;
  @ApiProperty() at!: string;
}

export class AuditLogPageView {
  @ApiProperty({ type: [AuditLogEntryView] }) items!: AuditLogEntryView[];
  @ApiProperty({ type: String, nullable: true }) nextCursor!: string | null;
}

