import { plainToInstance, Transform } from 'class-transformer';
import { AllowListError, UpstreamAllowList } from '#libs/upstream-guard';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  validateSync,
  type ValidationError,
} from 'class-validator';

/** The environment variable each config field is read from; also used in error messages. */
export const ENV_NAMES = {
  host: 'HOST',
  port: 'PORT',
  dataDir: 'DATA_DIR',
  configDir: 'CONFIG_DIR',
  databaseUrl: 'DATABASE_URL',
  natsUrl: 'NATS_URL',
  busNamespace: 'BUS_NAMESPACE',
  natsUser: 'NATS_USER',
  natsPassword: 'NATS_PASSWORD',
  embeddedPostgresPort: 'EMBEDDED_POSTGRES_PORT',
  vaultMasterKey: 'VAULT_MASTER_KEY',
  vaultMasterKeyFile: 'VAULT_MASTER_KEY_FILE',
  adminBootstrapKey: 'ADMIN_BOOTSTRAP_KEY',
  logLevel: 'LOG_LEVEL',
  telemetryFlushMs: 'TELEMETRY_FLUSH_MS',
  busRequestTimeoutMs: 'BUS_REQUEST_TIMEOUT_MS',
  upstreamTimeoutMs: 'UPSTREAM_TIMEOUT_MS',
  organisationId: 'DEFAULT_ORGANISATION_ID',
  gatewayUrl: 'GATEWAY_URL',
  meteringNice: 'METERING_NICE',
  upstreamAllowlist: 'UPSTREAM_ALLOWLIST',
  adapterPlugins: 'ADAPTER_PLUGINS',
  modelCatalogueFile: 'MODEL_CATALOGUE_FILE',
  v1MaxBodyBytes: 'V1_MAX_BODY_BYTES',
  adminMaxBodyBytes: 'ADMIN_MAX_BODY_BYTES',
  otlpMaxBodyBytes: 'OTLP_MAX_BODY_BYTES',
  jsonMaxDepth: 'JSON_MAX_DEPTH',
  jsonMaxArrayItems: 'JSON_MAX_ARRAY_ITEMS',
  jsonMaxObjectKeys: 'JSON_MAX_OBJECT_KEYS',
  httpHeadersTimeoutMs: 'HTTP_HEADERS_TIMEOUT_MS',
  httpRequestTimeoutMs: 'HTTP_REQUEST_TIMEOUT_MS',
  maxConcurrentRequestsPerConnection: 'MAX_CONCURRENT_REQUESTS_PER_CONNECTION',
  maxConcurrentRequestsPerAddress: 'MAX_CONCURRENT_REQUESTS_PER_ADDRESS',
  responseCacheMaxBytes: 'RESPONSE_CACHE_MAX_BYTES',
  responseCacheDefaultTtlSeconds: 'RESPONSE_CACHE_DEFAULT_TTL_SECONDS',
} as const satisfies Record<string, string>;

export type ConfigField = keyof typeof ENV_NAMES;

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
/** An integer variable within [min, max]: read from its text, then checked (one decorator for the four every such setting needs). */
function IntegerIn(min: number, max: number): PropertyDecorator {
  const decorators = [Transform(toInt), IsInt(), Min(min), Max(max)];
  return (target, property) => {
    for (const decorate of decorators) decorate(target, property);
  };
}

const emptyToUndefined = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** A comma-separated list UpstreamAllowList reads; the message names the entries it cannot. */
function IsUpstreamAllowList(): PropertyDecorator {
  const problem = (value: unknown): string | undefined => {
    if (typeof value !== 'string') return 'must be a comma-separated list of CIDRs and host names';
    try {
      UpstreamAllowList.parse(value);
      return undefined;
    } catch (err) {
      if (err instanceof AllowListError) {
        return `has entries that are neither a CIDR (10.0.0.0/8), an IP address nor a host name: ${err.badEntries.map((e) => JSON.stringify(e)).join(', ')}`;
      }
      throw err;
    }
  };
  return ValidateBy({
    name: 'isUpstreamAllowList',
    validator: {
      validate: (value: unknown) => problem(value) === undefined,
      defaultMessage: (args) => `$property ${problem(args?.value) ?? 'is invalid'}`,
    },
  });
}

/** `a, b,c` -> ['a', 'b', 'c']; empty or unset -> []. Empty entries stay, so the validator can name them. */
const toList = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  return value.trim() === '' ? [] : value.split(',').map((entry) => entry.trim());
};

/** A package name (npm's rules: lowercase, optionally scoped, optionally a subpath) or a path (./, ../, / or file:). */
const PLUGIN_SPECIFIER = /^(?:(?:\.{1,2}\/|\/|file:).+|(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*(?:\/[^\s,]+)?)$/;

/** ADAPTER_PLUGINS: the message names each entry that is neither a package name nor a path. */
function IsPluginList(): PropertyDecorator {
  const bad = (value: unknown): string[] => (Array.isArray(value) ? value.filter((e) => typeof e !== 'string' || !PLUGIN_SPECIFIER.test(e)).map(String) : ['']);
  return ValidateBy({
    name: 'isPluginList',
    validator: {
      validate: (value: unknown) => bad(value).length === 0,
      defaultMessage: (args) =>
        `$property must be comma-separated package names (my-adapter, @org/adapter) or paths (./plugins/x.mjs, /opt/x); these are neither: ${bad(args?.value)
          .map((e) => JSON.stringify(e))
          .join(', ')}`,
    },
  });
}

/**
 * The whole configuration of every service, read once from the environment at start.
 * Nothing else in the code base reads process.env.
 */
export class AppConfig {
  @IsString()
  host: string = '127.0.0.1';

  @IntegerIn(0, 65535)
  port: number = 8080;

  @IsString()
  @MinLength(1)
  dataDir: string = './data';

  /** Configuration as code (issue 16.4): backends/<name>/backend.yaml files imported at start and on POST /admin/config/import; a missing directory imports nothing. */
  @IsString()
  configDir: string = './config';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// or postgresql:// URL' })
  databaseUrl?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^(nats|tls|wss?):\/\/[^\s,]+(,(nats|tls|wss?):\/\/[^\s,]+)*$/, {
    message: 'must be one or more comma-separated nats:// URLs',
  })
  natsUrl?: string;

  /** This service's NATS user (deploy/nats/nats.conf gives each service its own, with subject permissions). */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ . or -' })
  natsUser?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  natsPassword?: string;

  /** Prefix for every NATS subject and the JetStream stream, so deployments can share a NATS server. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'must be 1-32 lowercase letters, digits, _ or -' })
  busNamespace?: string;

  @IntegerIn(0, 65535)
  embeddedPostgresPort: number = 0;

  /** base64 of 32 random bytes; several keys may be given as `id:key,id:key`, the first one active. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^([A-Za-z0-9_-]{1,32}:)?[A-Za-z0-9+/]{43}=(,([A-Za-z0-9_-]{1,32}:)?[A-Za-z0-9+/]{43}=)*$/, {
    message: 'must be base64 of 32 bytes, or a comma-separated list of id:base64 keys',
  })
  vaultMasterKey?: string;

  /**
   * A file holding master keys in VAULT_MASTER_KEY's format (e.g. a mounted Kubernetes secret). Re-read by
   * POST /admin/vault/rotate-master-key, so a new key put first in it is used without a restart.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  vaultMasterKeyFile?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^sk-gw-[A-Za-z0-9_-]{32,}$/, { message: 'must look like sk-gw- followed by at least 32 characters' })
  adminBootstrapKey?: string;

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  logLevel: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  @IntegerIn(10, 60_000)
  telemetryFlushMs: number = 100;

  @IntegerIn(100, 120_000)
  busRequestTimeoutMs: number = 10_000;

  @IntegerIn(100, 3_600_000)
  upstreamTimeoutMs: number = 600_000;

  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'must be 1-64 letters, digits, _ or -' })
  organisationId: string = 'default';

  /** How other services (the evaluator) reach the gateway's /v1 API; default: the address it listens on. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http:// or https:// URL' })
  gatewayUrl?: string;

  /**
   * The niceness usage-metering gives itself when it runs as its own process (0 = none, 19 = the
   * lowest priority). On a host it shares with the gateway, pricing and storing usage then yields
   * the CPU to requests; what waits is held by JetStream and priced when the CPU is free.
   */
  @IntegerIn(0, 19)
  meteringNice: number = 10;

  /**
   * Non-public upstream addresses the gateway may call anyway (self-hosted endpoints on private
   * networks): comma-separated CIDRs, addresses and host names (`*.` for a domain). Empty by
   * default: upstreams on loopback, private, link-local and metadata addresses are refused.
   */
  @IsUpstreamAllowList()
  upstreamAllowlist: string = '';

  /**
   * Adapter plugins loaded beside the built-in adapters: package names (resolved as any import) or
   * paths (relative to the working directory). One that fails to load stops the start.
   */
  @Transform(toList)
  @IsPluginList()
  adapterPlugins: readonly string[] = [];

  /**
   * The built-in catalogue of System model definitions the model registry applies at each start
   * (new models added, changed prices added as new versions); default: the repository's data file
   * apps/model-registry/catalogue/system-model-definitions.json. `off` applies none.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  modelCatalogueFile?: string;
  // ---- Hostile clients: what one request and one client may cost the gateway ----

  /** The largest request body /v1 reads (a multimodal prompt with a few images fits); more is 413. */
  @IntegerIn(1024, 1024 * 1024 * 1024)
  v1MaxBodyBytes: number = 32 * 1024 * 1024;

  /** The largest request body /admin (and every other non-/v1 route) reads; more is 413. */
  @IntegerIn(1024, 1024 * 1024 * 1024)
  adminMaxBodyBytes: number = 1024 * 1024;

  /**
   * The largest OTLP trace export POST /v1/traces reads, both as sent and once decompressed (a gzip
   * body that inflates past it is refused with 413, so a zip bomb costs at most this much memory).
   * The OpenTelemetry SDKs' batches of 512 spans stay far below the default.
   */
  @IntegerIn(1024, 1024 * 1024 * 1024)
  otlpMaxBodyBytes: number = 16 * 1024 * 1024;

  /** Deepest nesting of a JSON body (a tool's JSON schema rarely passes 20). */
  @IntegerIn(8, 10_000)
  jsonMaxDepth: number = 128;

  /** Most items in one array of a JSON body (a completions prompt may be a token array of 100k+). */
  @IntegerIn(16, 100_000_000)
  jsonMaxArrayItems: number = 500_000;

  /** Most keys in one object of a JSON body. */
  @IntegerIn(16, 100_000_000)
  jsonMaxObjectKeys: number = 10_000;

  /** A client must send a request's headers within this time, or the connection is closed (408). */
  @IntegerIn(100, 600_000)
  httpHeadersTimeoutMs: number = 10_000;

  /**
   * A client must send a whole request, body included, within this time, or the connection is
   * closed (408). Node counts only the request: a long streamed answer is not cut by it.
   */
  @IntegerIn(100, 3_600_000)
  httpRequestTimeoutMs: number = 30_000;

  /** Requests one client connection may have in flight (HTTP/1.1 pipelining); more are 429. */
  @IntegerIn(1, 1_000_000)
  maxConcurrentRequestsPerConnection: number = 16;

  /** Requests one client address may have in flight over all its connections; more are 429. */
  @IntegerIn(1, 10_000_000)
  maxConcurrentRequestsPerAddress: number = 4096;

  /** The response cache's bound per gateway replica (issue 15.6): answers' bytes held in memory, least recently used evicted first. 0 turns the cache off. */
  @IntegerIn(0, 64 * 1024 * 1024 * 1024)
  responseCacheMaxBytes: number = 64 * 1024 * 1024;

  /** How long a cached answer is served when neither the request (x-gateway-cache-ttl) nor the key says. */
  @IntegerIn(1, 30 * 24 * 3600)
  responseCacheDefaultTtlSeconds: number = 300;

  /** Embedded mode: no DATABASE_URL and no NATS_URL; the product runs its own Postgres and an in-process bus. */
  get embedded(): boolean {
    return this.databaseUrl === undefined && this.natsUrl === undefined;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function describe(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => {
    const env = ENV_NAMES[e.property as ConfigField] ?? e.property;
    return Object.values(e.constraints ?? {}).map((msg) => {
      // class-validator messages start with the property name; name the variable instead.
      const text = msg.startsWith(e.property) ? msg.slice(e.property.length).trim() : msg;
      return `${env} ${text} (got ${JSON.stringify(e.value)})`;
    });
  });
}

/** Parses and validates the environment once. Throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<AppConfig> {
  const raw: Record<string, string> = {};
  for (const [field, name] of Object.entries(ENV_NAMES)) {
    const value = env[name];
    if (value !== undefined) raw[field] = value;
  }
  const config = plainToInstance(AppConfig, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: true });
  const problems = describe(errors);
  if (config.databaseUrl === undefined && config.natsUrl !== undefined) {
    problems.push('DATABASE_URL must be set when NATS_URL is set (distributed mode needs both)');
  }
  if (config.natsUrl === undefined && config.databaseUrl !== undefined) {
    problems.push('NATS_URL must be set when DATABASE_URL is set (distributed mode needs both)');
  }
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    problems.push('HTTP_HEADERS_TIMEOUT_MS must not be greater than HTTP_REQUEST_TIMEOUT_MS (the headers are part of the request)');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/**
 * The process environment read at run time, for what is meant to be read there: the secrets a
 * connection names by environment variable (issue 16.3), resolved by the gateway at each call.
 * Injected, so a rule can be tested with a fixed environment.
 */
export class ProcessEnvironment {
  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  /** The variable's value; undefined when it is unset or empty (an empty key is never sent). */
  get(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }
}
