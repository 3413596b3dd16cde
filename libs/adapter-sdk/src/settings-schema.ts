/**
 * The per-connection settings an adapter declares, so the vault can validate and store them per
 * adapter: secrets (encrypted, never returned) apart from plain settings.
 */
export type SettingValue = string | number | boolean;

export interface SettingField {
  name: string;
  /** `secret` values are encrypted at rest and only ever handed to the adapter for a call. */
  kind: 'secret' | 'setting';
  type: 'string' | 'url' | 'number' | 'integer' | 'boolean';
  required: boolean;
  default?: SettingValue;
  /** Allowed values, for a closed set. */
  enum?: readonly string[];
  description: string;
}

export interface SettingsSchema {
  fields: readonly SettingField[];
}

/** What a field declares besides its name, kind and description; a plain optional string unless said otherwise. */
export type SettingFieldOptions = Partial<Pick<SettingField, 'type' | 'required' | 'default' | 'enum'>>;

function field(kind: SettingField['kind'], name: string, description: string, options: SettingFieldOptions): SettingField {
  return {
    name,
    kind,
    type: options.type ?? 'string',
    required: options.required ?? false,
    ...(options.default !== undefined ? { default: options.default } : {}),
    ...(options.enum !== undefined ? { enum: options.enum } : {}),
    description,
  };
}

/** A plain setting (stored and listed as is): an optional string unless the options say otherwise. */
export function settingField(name: string, description: string, options: SettingFieldOptions = {}): SettingField {
  return field('setting', name, description, options);
}

/** A secret (encrypted at rest, listed masked): an optional string unless the options say otherwise. */
export function secretField(name: string, description: string, options: SettingFieldOptions = {}): SettingField {
  return field('secret', name, description, options);
}

export interface ConnectionSettings {
  settings: Record<string, SettingValue>;
  secrets: Record<string, string>;
}

export interface SettingsError {
  field: string;
  message: string;
}

export type SettingsValidation = { value: ConnectionSettings } | { errors: SettingsError[] };

/**
 * Checks a flat object of field values against the schema: every error at once, one per field,
 * unknown fields refused (a typo must not be stored as if it did something), defaults applied.
 */
export function validateSettings(schema: SettingsSchema, input: unknown): SettingsValidation {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { errors: [{ field: '', message: 'settings must be an object' }] };
  }
  const given = input as Record<string, unknown>;
  const errors: SettingsError[] = [];
  const value: ConnectionSettings = { settings: {}, secrets: {} };
  const known = new Set(schema.fields.map((f) => f.name));
  for (const name of Object.keys(given)) {
    if (!known.has(name)) errors.push({ field: name, message: `unknown setting; this adapter accepts ${[...known].join(', ')}` });
  }
  for (const field of schema.fields) {
    const raw = given[field.name];
    if (raw === undefined || raw === null || raw === '') {
      if (field.default !== undefined) assign(value, field, field.default);
      else if (field.required) errors.push({ field: field.name, message: 'is required' });
      continue;
    }
    const problem = checkValue(field, raw);
    if (problem) errors.push({ field: field.name, message: problem });
    else assign(value, field, raw as SettingValue);
  }
  return errors.length > 0 ? { errors } : { value };
}

function assign(value: ConnectionSettings, field: SettingField, v: SettingValue): void {
  if (field.kind === 'secret') value.secrets[field.name] = String(v);
  else value.settings[field.name] = v;
}

function checkValue(field: SettingField, v: unknown): string | undefined {
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') return 'must be a string';
      if (field.enum && !field.enum.includes(v)) return `must be one of ${field.enum.join(', ')}`;
      return undefined;
    case 'url': {
      if (typeof v !== 'string') return 'must be a URL string';
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        return 'must be an absolute URL';
      }
      return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'must be an http or https URL';
    }
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a number';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v) ? undefined : 'must be an integer';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
  }
}

/**
 * The schema's checks, then (only when they pass) the adapter's own rules across fields, which can
 * rely on every value having its declared type.
 */
export function validateSettingsWith(schema: SettingsSchema, input: unknown, check: (value: ConnectionSettings) => SettingsError[]): SettingsValidation {
  const checked = validateSettings(schema, input);
  if ('errors' in checked) return checked;
  const errors = check(checked.value);
  return errors.length > 0 ? { errors } : checked;
}
