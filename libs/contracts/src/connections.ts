import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';

/**
 * An adapter's id as a connection names it. Which ids exist is not a contract: it is whatever the
 * vault loaded (built-ins and ADAPTER_PLUGINS), checked there at create; this only fixes the syntax.
 */
export type AdapterId = string;
export const ADAPTER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const ADAPTER_ID_MESSAGE = '$property must be an adapter id: 1-64 lowercase letters, digits, . _ or -, starting with a letter or digit';
const ADAPTER_ID_DESCRIPTION =
  'An adapter this gateway has loaded: the built-ins (openai-compatible, openai, anthropic) or one from ADAPTER_PLUGINS. Any other id is refused with the list of loaded adapters.';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

/** Extra headers: an object of header name -> string value (names per RFC 9110 token syntax). */
function IsHeaderMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHeaderMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.entries(value).every(([k, v]) => HEADER_NAME.test(k) && typeof v === 'string' && v.length <= 8192 && !/[\r\n]/.test(v)),
        defaultMessage: () => '$property must map header names to single-line string values',
      },
    },
    options,
  );
}

/**
 * An http(s) URL as the WHATWG parser (and so undici) reads it. Unlike validator's isURL it takes
 * every notation of an address (http://2130706433/, http://127.1/), so the vault's address check
 * sees them and names their class rather than a bare "must be a URL".
 */
function IsHttpUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHttpUrl',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string' || !URL.canParse(value)) return false;
          const url = new URL(value);
          return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
        },
        defaultMessage: () => '$property must be an http:// or https:// URL',
      },
    },
    options,
  );
}

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;
export const NAME_MESSAGE = '$property must be 1-128 letters, digits or . _ : / @ -, starting with a letter or digit';

export class CreateConnectionDto {
  @ApiProperty({ example: 'openai-prod', description: 'Unique within the organisation.' })
  @IsString()
  @Matches(NAME_PATTERN, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ example: 'openai-compatible', pattern: ADAPTER_ID_PATTERN.source, description: ADAPTER_ID_DESCRIPTION })
  @IsString()
  @Matches(ADAPTER_ID_PATTERN, { message: ADAPTER_ID_MESSAGE })
  adapter!: AdapterId;

  @ApiPropertyOptional({
    example: 'https://api.openai.com/v1',
    description:
      "Omit it to use the adapter's default endpoint (openai, anthropic); required for adapters without one (openai-compatible). Loopback, private, link-local and cloud-metadata addresses are refused unless UPSTREAM_ALLOWLIST lets them through.",
  })
  @IsOptional()
  @IsHttpUrl()
  @MaxLength(2048)
  baseUrl?: string;

  @ApiProperty({ example: 'sk-...', description: 'Stored encrypted; listed masked (last 4 characters).', writeOnly: true })
  @IsString()
  @Length(1, 8192)
  apiKey!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Extra headers sent upstream; stored encrypted.', writeOnly: true })
  @IsOptional()
  @IsObject()
  @IsHeaderMap()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ description: 'Project the connection belongs to; omit for organisation-wide.' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: '$property must be 1-64 letters, digits, _ or -' })
  projectId?: string;
}

export class ConnectionView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'openai-compatible' }) adapter!: AdapterId;
  @ApiProperty({ description: "The endpoint called: the one given at create, or the adapter's default." }) baseUrl!: string;
  @ApiProperty({ example: '••••wxyz', description: 'Only the last 4 characters of the key.' }) apiKeyMasked!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Header names with masked values.' })
  headersMasked!: Record<string, string>;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class RevealedConnectionView extends ConnectionView {
  @ApiProperty() apiKey!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
}

/** What the gateway's read model holds: a connection with its decrypted credentials. Bus only, never HTTP. */
export interface ResolvedConnection {
  id: string;
  organisationId: string;
  projectId: string | null;
  name: string;
  adapter: AdapterId;
  baseUrl: string;
  apiKey: string;
  headers: Record<string, string>;
  updatedAt: string;
}
