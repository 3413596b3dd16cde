import type { AdapterRegistry, ProviderAdapterV2, SettingsError, SettingValue } from '#libs/adapter-sdk';
import { AppError, splitConnectionPolicy, type FieldError } from '#libs/contracts';

/** The connection fields an adapter may declare that the body carries at its top level, not under `settings`. */
const TOP_LEVEL_FIELDS = new Set(['baseUrl', 'apiKey']);

/** A connection's fields as the adapter sees them: baseUrl and apiKey from the top of the body, the rest from `settings`. */
export interface ConnectionFieldsInput {
  adapter: string;
  baseUrl?: string;
  apiKey?: string;
  /** Setting name -> value; null or absent gives the adapter's default. */
  settings?: Readonly<Record<string, unknown>>;
  /** Secret field -> environment variable: such a field is read by the gateway at each call, so it is not given here and not stored. */
  secretEnvVars?: Readonly<Record<string, string>>;
}

export interface CheckedConnectionFields {
  adapter: ProviderAdapterV2;
  /** The endpoint to store: the one given, or the adapter's declared default; '' when the adapter declares baseUrl optional without a default (its endpoint then comes from other settings, e.g. a region). */
  baseUrl: string;
  /** Plain settings, defaults applied, baseUrl left out (it is a column of its own). */
  settings: Record<string, SettingValue>;
  /** Every secret field given, apiKey included. */
  secrets: Record<string, string>;
}

/** The adapter a connection names, when this vault loaded it. @throws AppError validation_failed on `adapter` */
export function loadedAdapter(adapters: AdapterRegistry, id: string): ProviderAdapterV2 {
  const adapter = adapters.getV2(id);
  if (!adapter) {
    throw AppError.validation([{ field: 'adapter', messages: [`adapter ${id} is not loaded by this gateway; loaded adapters: ${adapters.ids().join(', ')}`] }]);
  }
  return adapter;
}

/**
 * A connection's fields against the adapter it names, through the adapter's own validateSettings
 * (types, enums, required fields, unknown fields, defaults). An adapter the vault does not have is
 * refused now, naming the loaded ones, rather than failing every call later. Every error names the
 * field as the client wrote it: `apiKey`, `baseUrl` or `settings.<name>`. The gateway policy's
 * settings (CONNECTION_POLICY_SETTINGS: timeouts, retries, circuit breaker) are accepted on every
 * connection, checked apart and stored with the plain settings.
 * @throws AppError validation_failed, one entry per field
 */
export function checkConnectionFields(adapters: AdapterRegistry, input: ConnectionFieldsInput): CheckedConnectionFields {
  const adapter = loadedAdapter(adapters, input.adapter);
  const declared = new Set(adapter.settings.fields.map((f) => f.name));
  const misplaced: FieldError[] = [];
  const given: Record<string, unknown> = {};
  // The gateway's own settings of every connection (timeouts, retries, circuit breaker): checked here, never shown to the adapter.
  const { policy, adapterSettings, errors: policyErrors } = splitConnectionPolicy(input.settings);
  misplaced.push(...policyErrors);
  for (const [name, value] of Object.entries(adapterSettings)) {
    if (TOP_LEVEL_FIELDS.has(name)) misplaced.push({ field: `settings.${name}`, messages: [`give ${name} at the top level of the body, not under settings`] });
    else given[name] = value;
  }
  if (input.apiKey !== undefined) given.apiKey = input.apiKey;
  if (input.baseUrl !== undefined && declared.has('baseUrl')) given.baseUrl = input.baseUrl;
  const fromEnvironment = new Set(Object.keys(input.secretEnvVars ?? {}));
  const secretFields = new Set(adapter.settings.fields.filter((f) => f.kind === 'secret').map((f) => f.name));
  for (const name of fromEnvironment) {
    const field = envFieldName(name);
    if (!secretFields.has(name)) {
      misplaced.push({ field, messages: [`${name} is not a secret field of adapter ${adapter.id}; its secret fields: ${[...secretFields].join(', ') || 'none'}`] });
    } else if (given[name] !== undefined && given[name] !== null && given[name] !== '') {
      misplaced.push({ field, messages: [`${name} is given both as a value and as an environment variable; give one of them`] });
    } else {
      // Stands in for the value the gateway reads at each call, so "is required" holds; never stored.
      given[name] = ENVIRONMENT_PLACEHOLDER;
    }
  }
  const checked = adapter.validateSettings(given);
  if ('errors' in checked) throw AppError.validation([...misplaced, ...byField(checked.errors, fromEnvironment)]);
  if (misplaced.length > 0) throw AppError.validation(misplaced);
  for (const name of fromEnvironment) delete checked.value.secrets[name];
  const { baseUrl: declaredBaseUrl, ...settings } = checked.value.settings;
  // An adapter that declares baseUrl decides (required, or optional: its endpoint may come from
  // other settings, e.g. a region). One that does not still gets the vault's column, as before typed
  // connections (contract v1 adapters and plugins read target.baseUrl), so it must be given.
  let baseUrl: string;
  if (declared.has('baseUrl')) baseUrl = typeof declaredBaseUrl === 'string' ? declaredBaseUrl : '';
  else if (input.baseUrl !== undefined) baseUrl = input.baseUrl;
  else throw AppError.validation([{ field: 'baseUrl', messages: [`is required: adapter ${adapter.id} has no default endpoint`] }]);
  return { adapter, baseUrl, settings: { ...settings, ...policy }, secrets: { ...checked.value.secrets } };
}

const ENVIRONMENT_PLACEHOLDER = 'read-from-the-environment';

/** The field a client wrote an environment variable under: apiKeyEnvVar, or secretEnvVars.<name>. */
export function envFieldName(secretField: string): string {
  return secretField === 'apiKey' ? 'apiKeyEnvVar' : `secretEnvVars.${secretField}`;
}

/** The adapter reports its own field names; the client wrote baseUrl and apiKey at the top, the others under `settings`. */
function byField(errors: readonly SettingsError[], fromEnvironment: ReadonlySet<string> = new Set()): FieldError[] {
  const fields = new Map<string, string[]>();
  for (const e of errors) {
    const field = fromEnvironment.has(e.field) ? envFieldName(e.field) : e.field === '' ? 'settings' : TOP_LEVEL_FIELDS.has(e.field) ? e.field : `settings.${e.field}`;
    fields.set(field, [...(fields.get(field) ?? []), e.message]);
  }
  return [...fields].map(([field, messages]) => ({ field, messages }));
}
