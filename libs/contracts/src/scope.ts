import { IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';

/** Who a command acts for. Every owned row carries these two ids; repositories filter by them. */
export interface TenantScope {
  organisationId: string;
  /** null = organisation-wide. */
  projectId: string | null;
}

/** Every bus command carries the tenant it acts for and the credential that asked (for the audit log). */
export interface CommandEnvelope<T> {
  scope: TenantScope;
  actor: { keyId: string; name: string };
  input: T;
}

export interface IdInput {
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface ListInput {
  limit?: number;
  cursor?: string;
}

/**
 * A list command's input as a bus handler checks it. A limit above the service's maximum is served
 * as the maximum (as the registry's lists do); one below 1 is refused.
 */
export class ListInputDto implements ListInput {
  @IsOptional()
  @IsInt()
  @Min(1)
  limit?: number;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}
