import { applyDecorators } from '@nestjs/common';
import { ApiHideProperty, ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';
import { ListInputDto } from './scope.js';

/**
 * An adapter's id as a connection names it. Which ids exist is not a contract: it is whatever the
 * vault loaded (built-ins and ADAPTER_PLUGINS), checked there at create; this only fixes the syntax.
 */
export type AdapterId = string;
export const ADAPTER_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
export const ADAPTER_ID_MESSAGE = '$property must be an adapter id: 1-64 lowercase letters, digits, . _ or -, starting with a letter or digit';
const ADAPTER_ID_DESCRIPTION =
  'An adapter this gateway has loaded: the built-ins (openai-compatible, openai, anthropic) or one from ADAPTER_PLUGINS. Any other id is refused with the list of loaded adapters.';

const HEADER_TEMPLATE_DESCRIPTION =
  'A value may be a Mustache template with {{user}} (the gateway key\'s name), {{email}} (the caller\'s e-mail once SSO provides one, else empty), {{model}}, {{request_id}} and {{api_key}} (the connection\'s key), rendered per call without HTML escaping and with line breaks removed; any other variable is refused (400 naming the header).';

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

/** An environment variable's name as POSIX shells write it. */
export const ENV_VAR_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Secret field name -> environment variable name (null: stop reading that field from the environment). */
function IsEnvVarMap(allowNull: boolean, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isEnvVarMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= 64 &&
          Object.values(value).every((v) => (allowNull && v === null) || (typeof v === 'string' && ENV_VAR_PATTERN.test(v))),
        defaultMessage: () => `$property must map secret field names (apiKey, or a secret setting) to environment variable names (letters, digits and _, not starting with a digit)${allowNull ? ', or null to store the secret again' : ''}`,
      },
    },
    options,
  );
}

const ENV_VARS_DESCRIPTION =
  "Secrets read from the gateway's environment instead of being stored: secret field name (apiKey, or any secret setting of the adapter, e.g. secretAccessKey) -> environment variable name. Resolved by the gateway at each call; a variable that is unset makes the connection's status error (with the variable named) and its calls fail with connection_misconfigured. A field read from the environment is not stored.";

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$/;
export const NAME_MESSAGE = '$property must be 1-128 letters, digits or . _ : / @ -, starting with a letter or digit';

/** A connection's short handle, for `slug/model` addressing: unique per organisation. */
export const SLUG_PATTERN = /^[a-z0-9-]{1,40}$/;
export const SLUG_MESSAGE = '$property must be 1-40 lower-case letters, digits or -';

/** The slug a connection gets when none is given: its name lower-cased, every other run of characters one `-`, at most 40. */
export function slugOfName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return slug.length > 0 ? slug : 'connection';
}

/**
 * Active: routed. Inactive: set by an admin, its models are not routed. Error: the last connection
 * test failed (still routed: the admin decides whether to switch it off), lastError says why.
 */
export const CONNECTION_STATUSES = ['active', 'inactive', 'error'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];
/** What an admin may set by PATCH; `error` comes only from a failed connection test. */
export const ADMIN_SETTABLE_STATUSES = ['active', 'inactive'] as const;

/** The adapter's own fields, apart from baseUrl and apiKey: plain values and secrets alike. */
export type ConnectionSettingsInput = Record<string, string | number | boolean | null>;

const SETTINGS_DESCRIPTION =
  "Every other field the adapter declares, secrets included (an unknown one is refused, naming the accepted ones), e.g. openai: organization, project; anthropic: anthropicVersion, anthropicBeta, defaultMaxTokens; bedrock: accessKeyId, secretAccessKey, sessionToken, region; azure-openai: apiStyle, apiVersion, deployments, tenantId, clientId, clientSecret, authorityUrl, tokenScope; openai-compatible: authMode, authHeader; google-ai-studio: apiKey, apiVersion; vertex-ai: serviceAccountJson, project, location. Secret fields are stored encrypted and listed masked in secretsMasked; the others are listed in settings. Every connection also accepts the gateway policy's integer settings: connectTimeoutMs, firstByteTimeoutMs, totalTimeoutMs, maxRetries, retryDelayMs, circuitFailureThreshold, circuitHalfOpenAfterMs (README: Retries, failover and circuit breakers).";

/** A flat object of setting name -> string, number or boolean (null: the adapter's default). */
function IsSettingsMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSettingsMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= 64 &&
          Object.values(value).every(
            (v) => v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 65536),
          ),
        defaultMessage: () => '$property must be an object of setting names to strings, numbers, booleans or null',
      },
    },
    options,
  );
}

const PROJECT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_VAR_MESSAGE = '$property must be an environment variable name (letters, digits and _, not starting with a digit)';

/**
 * The rule of each connection field that a create and a PATCH both take, in one place; each DTO
 * adds its own optionality and documentation. Listed in the order the decorators run (bottom-up, as
 * stacked decorators would be), so refusals name their reasons in the same order as before.
 */
const ConnectionField = {
  name: () => applyDecorators(Matches(NAME_PATTERN, { message: NAME_MESSAGE }), IsString()),
  slug: () => applyDecorators(Matches(SLUG_PATTERN, { message: SLUG_MESSAGE }), IsString()),
  baseUrl: () => applyDecorators(MaxLength(2048), IsHttpUrl()),
  headers: () => applyDecorators(IsHeaderMap(), IsObject()),
  settings: () => IsSettingsMap(),
  apiKeyEnvVar: () => applyDecorators(Matches(ENV_VAR_PATTERN, { message: ENV_VAR_MESSAGE }), IsString()),
  projectId: () => applyDecorators(Matches(PROJECT_ID_PATTERN, { message: '$property must be 1-64 letters, digits, _ or -' }), IsString()),
};

export class CreateConnectionDto {
  @ApiProperty({ example: 'openai-prod', description: 'Unique within the organisation.' })
  @ConnectionField.name()
  name!: string;

  @ApiPropertyOptional({
    example: 'openai-prod',
    pattern: SLUG_PATTERN.source,
    description: 'Short handle for `slug/model` addressing, unique within the organisation; defaults to the name lower-cased with other characters as -.',
  })
  @IsOptional()
  @ConnectionField.slug()
  slug?: string;

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
  @ConnectionField.baseUrl()
  baseUrl?: string;

  @ApiPropertyOptional({
    example: 'sk-...',
    description: "Stored encrypted; listed masked (last 4 characters). Required or not is the adapter's call (openai and anthropic need one; openai-compatible may have none).",
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @Length(1, 8192)
  apiKey?: string;

  @ApiPropertyOptional({ example: 'OPENAI_API_KEY', description: 'Shorthand for secretEnvVars.apiKey: read the API key from this environment variable of the gateway instead of storing it.' })
  @IsOptional()
  @ConnectionField.apiKeyEnvVar()
  apiKeyEnvVar?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { apiKey: 'OPENAI_API_KEY' }, description: ENV_VARS_DESCRIPTION })
  @IsOptional()
  @IsEnvVarMap(false)
  secretEnvVars?: Record<string, string>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: `Extra headers sent upstream; stored encrypted. ${HEADER_TEMPLATE_DESCRIPTION}`, writeOnly: true })
  @IsOptional()
  @ConnectionField.headers()
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    example: { organization: 'org-123' },
    description: SETTINGS_DESCRIPTION,
  })
  @IsOptional()
  @ConnectionField.settings()
  settings?: ConnectionSettingsInput;

  @ApiPropertyOptional({ description: 'Project the connection belongs to; omit for organisation-wide.' })
  @IsOptional()
  @ConnectionField.projectId()
  projectId?: string;
}

/** Refuses any value: for a field that may not be sent (the adapter of an existing connection). */
function IsNeverAccepted(message: string, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isNeverAccepted', validator: { validate: () => false, defaultMessage: () => message } }, options);
}

/**
 * A change to a connection: every field optional. A secret (apiKey, a header value, a secret
 * setting) left out or blank keeps the stored one; a new value replaces it. Settings are merged
 * with the stored ones (null resets one to the adapter's default) and validated again.
 */
export class UpdateConnectionDto {
  @ApiPropertyOptional({ example: 'openai-prod' })
  @IsOptional()
  @ConnectionField.name()
  name?: string;

  @ApiPropertyOptional({ example: 'openai-prod', pattern: SLUG_PATTERN.source })
  @IsOptional()
  @ConnectionField.slug()
  slug?: string;

  /** Declared only to refuse it with a clear message (the edge forbids unknown fields, the bus strips them). */
  @ApiHideProperty()
  @ValidateIf((_o, v) => v !== undefined)
  @IsNeverAccepted('adapter cannot change after a connection is created; create a new connection for another adapter type')
  adapter?: unknown;

  @ApiPropertyOptional({ example: 'https://api.openai.com/v1' })
  @IsOptional()
  @ConnectionField.baseUrl()
  baseUrl?: string;

  @ApiPropertyOptional({ example: 'sk-...', description: 'A new key replaces the stored one; left out or blank keeps it.', writeOnly: true })
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  apiKey?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: `The full set of extra headers: a name left out is removed; a blank value keeps the stored value of that name. ${HEADER_TEMPLATE_DESCRIPTION}`,
    writeOnly: true,
  })
  @IsOptional()
  @ConnectionField.headers()
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }], nullable: true },
    description: 'Merged with the stored settings and validated again. A secret setting left out or blank keeps the stored value; null resets a plain setting to its default.',
  })
  @IsOptional()
  @ConnectionField.settings()
  settings?: ConnectionSettingsInput;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'OPENAI_API_KEY', description: 'Shorthand for secretEnvVars.apiKey; null stops reading the key from the environment.' })
  @IsOptional()
  @ConnectionField.apiKeyEnvVar()
  apiKeyEnvVar?: string | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', nullable: true },
    description: `Merged with the stored ones; null removes one (give the secret itself then). ${ENV_VARS_DESCRIPTION}`,
  })
  @IsOptional()
  @IsEnvVarMap(true)
  secretEnvVars?: Record<string, string | null>;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'Move the connection to a project, or null for organisation-wide.' })
  @IsOptional()
  @ConnectionField.projectId()
  projectId?: string | null;

  @ApiPropertyOptional({ enum: ADMIN_SETTABLE_STATUSES, description: 'inactive stops routing to the connection; active routes it again (and clears an error status).' })
  @IsOptional()
  @IsIn(ADMIN_SETTABLE_STATUSES, { message: `$property must be one of ${ADMIN_SETTABLE_STATUSES.join(', ')} (error is set by a failed connection test)` })
  status?: (typeof ADMIN_SETTABLE_STATUSES)[number];
}

export interface UpdateConnectionInput extends UpdateConnectionDto {
  id: string;
}

/** A list of connections, optionally only those of one status. */
export class ListConnectionsInputDto extends ListInputDto {
  @IsOptional()
  @IsIn(CONNECTION_STATUSES, { message: `$property must be one of ${CONNECTION_STATUSES.join(', ')}` })
  status?: ConnectionStatus;
}
export type ListConnectionsInput = Pick<ListConnectionsInputDto, 'limit' | 'cursor' | 'status'>;

export class ConnectionView {
  @ApiProperty() id!: string;
  @ApiProperty() organisationId!: string;
  @ApiProperty({ type: String, nullable: true }) projectId!: string | null;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'openai-prod', description: 'Short handle for `slug/model` addressing.' }) slug!: string;
  @ApiProperty({ example: 'openai-compatible' }) adapter!: AdapterId;
  @ApiProperty({ description: "The endpoint called: the one given at create, or the adapter's default." }) baseUrl!: string;
  @ApiProperty({ type: String, nullable: true, example: '••••wxyz', description: 'Only the last 4 characters of the key; null when the connection has no key.' })
  apiKeyMasked!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Header names with masked values.' })
  headersMasked!: Record<string, string>;
  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] },
    description: "The adapter's plain settings, defaults applied.",
  })
  settings!: Record<string, string | number | boolean>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { apiKey: '••••wxyz' }, description: 'Every stored secret field (apiKey included), masked like apiKeyMasked.' })
  secretsMasked!: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { apiKey: 'OPENAI_API_KEY' }, description: 'Secret fields read from the environment: field -> variable name.' })
  secretEnvVars?: Record<string, string>;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'config:backends/openai/backend.yaml',
    description: 'Where the connection is managed: `config:<file>` when it comes from a configuration file (CONFIG_DIR; the next import overwrites changes made here), null when it is managed through this API.',
  })
  managedBy?: string | null;
  @ApiProperty({ enum: CONNECTION_STATUSES, description: 'error also when an environment variable the connection reads is unset (lastError names it).' }) status!: ConnectionStatus;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last connection test failed, or which environment variable is unset (secrets removed).' }) lastError!: string | null;
  @ApiProperty({ type: String, nullable: true }) lastErrorAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class RevealedConnectionView extends ConnectionView {
  @ApiProperty({ type: String, nullable: true }) apiKey!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Every secret field of the adapter, apiKey included.' })
  secrets!: Record<string, string>;
}

/** POST /admin/connections/{id}/test */
export class TestConnectionDto {
  @ApiProperty({ example: 'gpt-4o-mini', description: 'The model id the provider knows (the upstream model), sent a one-line prompt.' })
  @IsString()
  @Length(1, 256)
  model!: string;
}

export class ConnectionTestResultView {
  @ApiProperty() ok!: boolean;
  @ApiPropertyOptional({ description: "The answer's text (ok: true)." }) text?: string;
  @ApiPropertyOptional({ example: 'auth', description: 'The error kind of the taxonomy (ok: false): auth, rate_limited, upstream_unreachable, ...' }) errorKind?: string;
  @ApiPropertyOptional({ description: "The provider's message, secrets removed (ok: false)." }) message?: string;
  @ApiProperty() latencyMs!: number;
  @ApiProperty({ enum: CONNECTION_STATUSES, description: 'The status the test gave the connection.' }) status!: ConnectionStatus;
}

/** The gateway tells the vault how a connection test went: bus only. */
export class RecordConnectionTestDto {
  @IsString()
  @Length(1, 64)
  id!: string;

  @IsBoolean()
  ok!: boolean;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  errorKind?: string;

  @IsOptional()
  @IsString()
  @MaxLength(4096)
  message?: string;
}

/** What the gateway's read model holds: a connection with its decrypted credentials. Bus only, never HTTP. */
export interface ResolvedConnection {
  id: string;
  organisationId: string;
  projectId: string | null;
  name: string;
  slug: string;
  adapter: AdapterId;
  baseUrl: string;
  /** '' when the connection has no key (kept for readers of the previous version; `secrets.apiKey` is the same). */
  apiKey: string;
  headers: Record<string, string>;
  /** The adapter's plain settings, defaults applied (baseUrl is the field above). */
  settings: Record<string, string | number | boolean>;
  /** Every secret field of the adapter, apiKey included when there is one. */
  secrets: Record<string, string>;
  status: ConnectionStatus;
  updatedAt: string;
  /** Secret field -> environment variable the gateway reads it from at each call (absent from a vault of the previous version). */
  secretEnvVars?: Record<string, string>;
}

/** One page of the gateway's read model load (vault.v1.connections.resolve-page), in id order. */
export interface ResolvePageInput {
  /** The last id of the previous page; absent for the first. */
  after?: string;
  limit?: number;
}

export interface ResolvedConnectionPage {
  items: ResolvedConnection[];
  /** The `after` of the next page; null on the last. */
  next: string | null;
}

/**
 * Connections per resolve-page answer: a resolved connection is well under 4 KB (key, headers,
 * settings), so a page stays far below NATS's default 1 MB message limit.
 */
export const RESOLVE_PAGE_SIZE = 200;
export const RESOLVE_PAGE_MAX = 500;
