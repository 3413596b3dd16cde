import { parseDocument } from 'yaml';
import { ENV_VAR_PATTERN, modelParameterProblem, NAME_PATTERN, type ModelParameters } from '#libs/contracts';

/** One problem of a configuration file: the field as the file spells it (models.fast.limits.context_window), and why. */
export interface ConfigFieldError {
  field: string;
  message: string;
}

export interface BackendModel {
  /** The model name clients call (the key under `models`). */
  name: string;
  /** The provider's model id: `upstream_model`, else the name. */
  upstreamModel: string;
  contextWindow: number | null;
  maxInputTokens: number | null;
  maxOutputTokens: number | null;
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  defaultParameters: ModelParameters;
}

/** A backend.yaml, checked for its own shape (the adapter's rules are checked by the import). */
export interface BackendFile {
  /** The directory's name: the connection's name. */
  name: string;
  adapter: string;
  baseUrl?: string;
  secretEnvVars: Record<string, string>;
  headers: Record<string, string>;
  /** The adapter's settings, with the file's auth_type, timeout, max_retries and retry_delay as the gateway policy's settings. */
  settings: Record<string, string | number | boolean>;
  defaultModel?: string;
  models: BackendModel[];
}

/** 002's backend_type "custom" is any OpenAI-compatible endpoint. */
export const CUSTOM_BACKEND_TYPE = 'custom';
const CUSTOM_ADAPTER = 'openai-compatible';

const TOP_LEVEL = [
  'backend_type',
  'api_base_url',
  'api_key_env_var',
  'secret_env_vars',
  'headers',
  'auth_type',
  'auth_header',
  'timeout',
  'max_retries',
  'retry_delay',
  'settings',
  'default_model',
  'models',
] as const;
const MODEL_KEYS = ['upstream_model', 'limits', 'parameters'] as const;
const LIMIT_KEYS = ['context_window', 'max_input_tokens', 'max_output_tokens', 'requests_per_minute', 'tokens_per_minute'] as const;
/** Settings a backend file sets through 002's own fields, not under `settings`. */
const FILE_MANAGED_SETTINGS = new Map([
  ['authHeader', 'auth_header'],
  ['totalTimeoutMs', 'timeout'],
  ['maxRetries', 'max_retries'],
  ['retryDelayMs', 'retry_delay'],
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/** Keys that would carry a secret into a file kept in version control. */
const SECRET_KEYS = new Set(['api_key', 'apiKey', 'secret', 'password', 'token']);

type Plain = Record<string, unknown>;

/**
 * Parses one backends/<name>/backend.yaml (002's format) into what the import writes, or every
 * problem of the file at once, each naming its field. Unknown fields are refused (a typo must not
 * be ignored), and so is a secret written into the file: keys come from the environment only.
 */
export function parseBackendFile(name: string, text: string): { ok: true; file: BackendFile } | { ok: false; errors: ConfigFieldError[] } {
  const errors: ConfigFieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  if (!NAME_PATTERN.test(name)) fail('', `the directory name ${JSON.stringify(name)} is not a valid connection name (letters, digits or . _ : / @ -, starting with a letter or digit)`);

  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => ({ field: '', message: `not valid YAML: ${e.message.split('\n')[0]}` })) };
  const root: unknown = doc.toJS();
  if (!isPlain(root)) return { ok: false, errors: [{ field: '', message: 'must be a YAML mapping of backend fields' }] };

  for (const key of Object.keys(root)) {
    if (SECRET_KEYS.has(key)) fail(key, 'secrets are not kept in configuration files: name an environment variable with api_key_env_var (or secret_env_vars)');
    else if (!(TOP_LEVEL as readonly string[]).includes(key)) fail(key, `unknown field; a backend file may have ${TOP_LEVEL.join(', ')}`);
  }

  const backendType = root.backend_type;
  let adapter = CUSTOM_ADAPTER;
  if (typeof backendType !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(backendType)) fail('backend_type', `is required: "${CUSTOM_BACKEND_TYPE}" (any OpenAI-compatible endpoint) or an adapter id such as openai or anthropic`);
  else adapter = backendType === CUSTOM_BACKEND_TYPE ? CUSTOM_ADAPTER : backendType;

  const baseUrl = optionalString(root, 'api_base_url', fail);
  if (baseUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(baseUrl)) fail('api_base_url', 'must be an http:// or https:// URL');

  const secretEnvVars: Record<string, string> = {};
  const keyVar = optionalString(root, 'api_key_env_var', fail);
  if (keyVar !== undefined) {
    if (ENV_VAR_PATTERN.test(keyVar)) secretEnvVars.apiKey = keyVar;
    else fail('api_key_env_var', 'must be an environment variable name (letters, digits and _, not starting with a digit)');
  }
  for (const [field, variable] of Object.entries(optionalMap(root, 'secret_env_vars', fail))) {
    if (typeof variable !== 'string' || !ENV_VAR_PATTERN.test(variable)) fail(`secret_env_vars.${field}`, 'must be an environment variable name');
    else if (field === 'apiKey' && keyVar !== undefined) fail(`secret_env_vars.${field}`, 'is given by api_key_env_var already');
    else secretEnvVars[field] = variable;
  }

  const headers: Record<string, string> = {};
  for (const [header, value] of Object.entries(optionalMap(root, 'headers', fail))) {
    if (!HEADER_NAME.test(header)) fail(`headers.${header}`, 'is not a valid header name');
    else if (typeof value !== 'string' && typeof value !== 'number') fail(`headers.${header}`, 'must be a string');
    else if (/[\r\n]/.test(String(value))) fail(`headers.${header}`, 'must be a single line');
    else headers[header] = String(value);
  }

  const settings: Record<string, string | number | boolean> = {};
  for (const [setting, value] of Object.entries(optionalMap(root, 'settings', fail))) {
    if (FILE_MANAGED_SETTINGS.has(setting)) fail(`settings.${setting}`, `is set by ${FILE_MANAGED_SETTINGS.get(setting)} in a backend file`);
    else if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) settings[setting] = value;
    else fail(`settings.${setting}`, 'must be a string, number or boolean');
  }

  // 002's auth: bearer (the adapter's Authorization header) or custom (the key in auth_header instead): the openai-compatible adapter's authMode.
  const authType = optionalString(root, 'auth_type', fail);
  const authHeader = optionalString(root, 'auth_header', fail);
  if (authType !== undefined && authType !== 'bearer' && authType !== 'custom') fail('auth_type', 'must be bearer or custom');
  if (authType === 'custom') {
    if (authHeader === undefined || !HEADER_NAME.test(authHeader)) fail('auth_header', 'is required with auth_type custom: the header the key is sent in, e.g. X-API-Key');
    else Object.assign(settings, { authMode: 'header', authHeader });
  } else if (authHeader !== undefined) {
    fail('auth_header', 'is only used with auth_type custom');
  }

  // 002's timeout, max_retries, retry_delay (seconds) are the gateway policy's settings (milliseconds), enforced per call.
  const timeout = optionalNumber(root, 'timeout', fail, { min: 0.1, max: 3600 });
  if (timeout !== undefined) settings.totalTimeoutMs = Math.round(timeout * 1000);
  const maxRetries = optionalNumber(root, 'max_retries', fail, { min: 0, max: 10, integer: true });
  if (maxRetries !== undefined) settings.maxRetries = maxRetries;
  const retryDelay = optionalNumber(root, 'retry_delay', fail, { min: 0.001, max: 30 });
  if (retryDelay !== undefined) settings.retryDelayMs = Math.max(1, Math.round(retryDelay * 1000));

  const models: BackendModel[] = [];
  const rawModels = root.models;
  if (rawModels !== undefined && rawModels !== null && !isPlain(rawModels)) fail('models', 'must be a mapping of model name -> its limits and parameters');
  for (const [modelName, raw] of Object.entries(isPlain(rawModels) ? rawModels : {})) {
    const at = `models.${modelName}`;
    if (!NAME_PATTERN.test(modelName)) {
      fail(at, 'is not a valid model name (letters, digits or . _ : / @ -, starting with a letter or digit)');
      continue;
    }
    const model = raw ?? {};
    if (!isPlain(model)) {
      fail(at, 'must be a mapping with limits and parameters');
      continue;
    }
    for (const key of Object.keys(model)) if (!(MODEL_KEYS as readonly string[]).includes(key)) fail(`${at}.${key}`, `unknown field; a model may have ${MODEL_KEYS.join(', ')}`);
    const upstreamModel = optionalString(model, 'upstream_model', fail, at) ?? modelName;
    const limits = optionalMap(model, 'limits', fail, at);
    for (const key of Object.keys(limits)) if (!(LIMIT_KEYS as readonly string[]).includes(key)) fail(`${at}.limits.${key}`, `unknown limit; limits are ${LIMIT_KEYS.join(', ')}`);
    const limit = (key: (typeof LIMIT_KEYS)[number]) => optionalNumber(limits, key, fail, { min: 1, max: 100_000_000, integer: true }, `${at}.limits`) ?? null;
    const entry: BackendModel = {
      name: modelName,
      upstreamModel,
      contextWindow: limit('context_window'),
      maxInputTokens: limit('max_input_tokens'),
      maxOutputTokens: limit('max_output_tokens'),
      requestsPerMinute: limit('requests_per_minute'),
      tokensPerMinute: limit('tokens_per_minute'),
      defaultParameters: {},
    };
    if (entry.contextWindow !== null && entry.maxInputTokens !== null && entry.contextWindow <= entry.maxInputTokens) {
      fail(`${at}.limits.max_input_tokens`, `must be smaller than context_window (${entry.contextWindow})`);
    }
    if (entry.contextWindow !== null && entry.maxOutputTokens !== null && entry.maxOutputTokens > entry.contextWindow) {
      fail(`${at}.limits.max_output_tokens`, `must be at most context_window (${entry.contextWindow})`);
    }
    for (const [parameter, value] of Object.entries(optionalMap(model, 'parameters', fail, at))) {
      const problem = modelParameterProblem(parameter, value);
      if (problem) fail(`${at}.parameters.${parameter}`, problem);
      else (entry.defaultParameters as Record<string, unknown>)[parameter] = value;
    }
    models.push(entry);
  }

  const defaultModel = optionalString(root, 'default_model', fail);
  if (defaultModel !== undefined && !models.some((m) => m.name === defaultModel)) fail('default_model', `must name one of the file's models (${models.map((m) => m.name).join(', ') || 'none'})`);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    file: { name, adapter, ...(baseUrl !== undefined ? { baseUrl } : {}), secretEnvVars, headers, settings, ...(defaultModel !== undefined ? { defaultModel } : {}), models },
  };
}

function isPlain(value: unknown): value is Plain {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(from: Plain, key: string, fail: (field: string, message: string) => void, at = ''): string | undefined {
  const value = from[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    fail(at ? `${at}.${key}` : key, 'must be a non-empty string');
    return undefined;
  }
  return value;
}

function optionalMap(from: Plain, key: string, fail: (field: string, message: string) => void, at = ''): Plain {
  const value = from[key];
  if (value === undefined || value === null) return {};
  if (!isPlain(value)) {
    fail(at ? `${at}.${key}` : key, 'must be a mapping');
    return {};
  }
  return value;
}

function optionalNumber(
  from: Plain,
  key: string,
  fail: (field: string, message: string) => void,
  range: { min: number; max: number; integer?: boolean },
  at = '',
): number | undefined {
  const value = from[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || (range.integer && !Number.isInteger(value)) || value < range.min || value > range.max) {
    fail(at ? `${at}.${key}` : key, `must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`);
    return undefined;
  }
  return value;
}
