import type { AdapterRegistry, SettingsError } from '#libs/adapter-sdk';
import { AppError, type CreateConnectionDto, type FieldError } from '#libs/contracts';

/** The connection fields an adapter may declare as its settings: the rest are the vault's own columns. */
const MAPPED_FIELDS = ['baseUrl', 'apiKey'] as const;

export interface CheckedConnectionAdapter {
  /** The endpoint to store: the one given, or the adapter's declared default. */
  baseUrl: string;
}

/**
 * A new connection against the adapters this vault loaded: an adapter it does not have is refused
 * now, naming the loaded ones, rather than failing every call later. The create fields the adapter
 * declares as settings (baseUrl, apiKey) go through its own validateSettings, which also gives the
 * default endpoint when none was given. Settings the create body cannot carry yet (typed
 * per-adapter settings are a later issue) are reported by the adapter under their own names.
 * @throws AppError validation_failed, one entry per field
 */
export function checkConnectionAdapter(adapters: AdapterRegistry, input: Pick<CreateConnectionDto, 'adapter' | 'baseUrl' | 'apiKey'>): CheckedConnectionAdapter {
  const adapter = adapters.getV2(input.adapter);
  if (!adapter) {
    throw AppError.validation([{ field: 'adapter', messages: [`adapter ${input.adapter} is not loaded by this gateway; loaded adapters: ${adapters.ids().join(', ')}`] }]);
  }
  const declared = new Set(adapter.settings.fields.map((f) => f.name));
  const given: Record<string, string> = {};
  for (const name of MAPPED_FIELDS) {
    const value = input[name];
    if (declared.has(name) && value !== undefined) given[name] = value;
  }
  const checked = adapter.validateSettings(given);
  if ('errors' in checked) throw AppError.validation(byField(checked.errors));
  const declaredDefault = checked.value.settings.baseUrl;
  const baseUrl = input.baseUrl ?? (typeof declaredDefault === 'string' ? declaredDefault : undefined);
  if (baseUrl === undefined) throw AppError.validation([{ field: 'baseUrl', messages: [`is required: adapter ${adapter.id} has no default endpoint`] }]);
  return { baseUrl };
}

function byField(errors: readonly SettingsError[]): FieldError[] {
  const fields = new Map<string, string[]>();
  for (const e of errors) fields.set(e.field, [...(fields.get(e.field) ?? []), e.message]);
  return [...fields].map(([field, messages]) => ({ field, messages }));
}
