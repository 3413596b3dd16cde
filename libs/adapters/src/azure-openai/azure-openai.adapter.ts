import {
  isRecord,
  jsonOrUndefined,
  secretField,
  settingField,
  validateSettingsWith,
  type AdapterError,
  type ConnectionSettings,
  type ProviderAdapterV2,
  type SettingsError,
  type SettingsSchema,
  type UpstreamHeaders,
} from '#libs/adapter-sdk';
import { mapOpenAIError, openAIWireOperations, type OpenAIWireSend } from '../openai-compatible/openai-compatible-v2.adapter.js';
import { EntraTokenSource } from './entra-token-source.js';

/** Azure OpenAI's token audience (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/managed-identity). */
export const AZURE_COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';
export const ENTRA_AUTHORITY_URL = 'https://login.microsoftonline.com';

/** A dated api-version (2024-10-21, 2025-04-01-preview) or Azure's rolling aliases. */
const API_VERSION = /^(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest)$/;
/** A deployment name as Azure allows it: letters, digits, '-', '_', '.', 2 to 64 characters. */
const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const settings: SettingsSchema = {
  fields: [
    settingField('baseUrl', 'The resource endpoint, https://<resource>.openai.azure.com (the /openai/... paths are appended).', { type: 'url', required: true }),
    settingField(
      'apiStyle',
      'deployments: /openai/deployments/{deployment}/chat/completions?api-version=...; v1: Azure\'s /openai/v1/chat/completions with the deployment as the body\'s model and no api-version.',
      { default: 'deployments', enum: ['deployments', 'v1'] },
    ),
    settingField('apiVersion', 'The api-version query parameter, e.g. 2024-10-21; required with apiStyle deployments.'),
    settingField(
      'deployments',
      'Deployment per upstream model, as model=deployment pairs separated by commas (gpt-4o=prod-gpt4o, text-embedding-3-small=emb). A model not listed is called on the deployment of its own name.',
    ),
    secretField('apiKey', 'The resource key, sent as the api-key header. Give it, or an Entra ID service principal.'),
    settingField('tenantId', 'Entra ID service principal: the directory (tenant) id.'),
    settingField('clientId', 'Entra ID service principal: the application (client) id.'),
    secretField('clientSecret', 'Entra ID service principal: the client secret; its token is sent as Authorization: Bearer.'),
    settingField('authorityUrl', 'Entra ID authority the token is asked of ({authorityUrl}/{tenantId}/oauth2/v2.0/token); another for sovereign clouds.', {
      type: 'url',
      default: ENTRA_AUTHORITY_URL,
    }),
    settingField('tokenScope', 'The scope the Entra ID token is asked for.', { default: AZURE_COGNITIVE_SERVICES_SCOPE }),
  ],
};

const PRINCIPAL_FIELDS = ['tenantId', 'clientId', 'clientSecret'] as const;

/** `model=deployment` pairs into a map; the errors name what is wrong. */
export function parseDeployments(text: string): { map: ReadonlyMap<string, string> } | { error: string } {
  const map = new Map<string, string>();
  for (const raw of text.split(',')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const model = eq === -1 ? '' : pair.slice(0, eq).trim();
    const deployment = eq === -1 ? '' : pair.slice(eq + 1).trim();
    if (model === '' || deployment === '') return { error: `"${pair}" is not a model=deployment pair` };
    if (!DEPLOYMENT_NAME.test(deployment)) return { error: `"${deployment}" is not a deployment name (letters, digits, '.', '_' and '-')` };
    if (map.has(model)) return { error: `${model} is given twice` };
    map.set(model, deployment);
  }
  return { map };
}

function check({ settings: s, secrets }: ConnectionSettings): SettingsError[] {
  const errors: SettingsError[] = [];
  const base = new URL(String(s.baseUrl));
  if (base.search !== '' || base.hash !== '') errors.push({ field: 'baseUrl', message: 'must be the resource endpoint without a query, e.g. https://my-resource.openai.azure.com' });
  if (s.apiVersion === undefined) {
    if (s.apiStyle === 'deployments') errors.push({ field: 'apiVersion', message: 'is required with apiStyle deployments (e.g. 2024-10-21)' });
  } else if (!API_VERSION.test(String(s.apiVersion))) errors.push({ field: 'apiVersion', message: 'must be an Azure OpenAI api-version such as 2024-10-21 or 2025-04-01-preview' });
  if (typeof s.deployments === 'string') {
    const parsed = parseDeployments(s.deployments);
    if ('error' in parsed) errors.push({ field: 'deployments', message: parsed.error });
  }
  const principal = PRINCIPAL_FIELDS.filter((f) => (f === 'clientSecret' ? secrets[f] : s[f]) !== undefined);
  if (secrets.apiKey !== undefined && principal.length > 0) {
    errors.push({ field: 'apiKey', message: `give either apiKey or an Entra ID service principal (${PRINCIPAL_FIELDS.join(', ')}), not both` });
  } else if (secrets.apiKey === undefined && principal.length === 0) {
    errors.push({ field: 'apiKey', message: `is required unless an Entra ID service principal (${PRINCIPAL_FIELDS.join(', ')}) is given` });
  } else if (principal.length > 0) {
    for (const f of PRINCIPAL_FIELDS) if (!principal.includes(f)) errors.push({ field: f, message: 'is required for an Entra ID service principal' });
  }
  return errors;
}

/**
 * Azure's error bodies are OpenAI's with Azure's own fields: `code` may be a status as a string
 * ("429"), and a content-filter refusal says so in `innererror.code` (ResponsibleAIPolicyViolation)
 * with the categories that were filtered (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/concepts/content-filter).
 */
export function mapAzureOpenAIError(status: number, body: Uint8Array, headers: UpstreamHeaders): AdapterError {
  const mapped = mapOpenAIError(status, body, headers);
  if (status >= 500 || status === 401 || status === 403 || status === 429) return mapped;
  const parsed = jsonOrUndefined(body);
  const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  const inner = err && isRecord(err.innererror) ? err.innererror : undefined;
  if (mapped.kind !== 'content_filter' && inner?.code !== 'ResponsibleAIPolicyViolation') return mapped;
  const result = inner && isRecord(inner.content_filter_result) ? inner.content_filter_result : {};
  const filtered = Object.entries(result)
    .filter(([, v]) => isRecord(v) && v.filtered === true)
    .map(([category, v]) => (typeof (v as Record<string, unknown>).severity === 'string' ? `${category} (${String((v as Record<string, unknown>).severity)})` : category));
  const message = filtered.length > 0 ? `${mapped.message} [filtered: ${filtered.join(', ')}]` : mapped.message;
  return { ...mapped, kind: 'content_filter', retryable: false, message };
}

export interface AzureOpenAIAdapterOptions {
  /** Where Entra ID tokens come from; one per process, so its cache is shared by every call. */
  tokenSource?: EntraTokenSource;
}

/**
 * Azure OpenAI: OpenAI's wire format on a resource endpoint, with a deployment in the path and an
 * api-version in the query (https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference),
 * or Azure's /openai/v1 form with the deployment as the body's model. The client's OpenAI body
 * passes through; auth is the api-key header or an Entra ID bearer token.
 */
export function createAzureOpenAIAdapter(options: AzureOpenAIAdapterOptions = {}): ProviderAdapterV2 {
  const tokens = options.tokenSource ?? new EntraTokenSource();
  // The connection's deployments setting parsed once per distinct text, not per call.
  const deploymentMaps = new Map<string, ReadonlyMap<string, string>>();
  const deploymentOf = (model: string, text: unknown): string => {
    if (typeof text !== 'string' || text === '') return model;
    let map = deploymentMaps.get(text);
    if (!map) {
      const parsed = parseDeployments(text);
      if ('error' in parsed) throw new Error(`the connection's deployments setting is invalid: ${parsed.error}`);
      if (deploymentMaps.size >= 256) deploymentMaps.clear();
      map = parsed.map;
      deploymentMaps.set(text, map);
    }
    return map.get(model) ?? model;
  };

  const send: OpenAIWireSend = async (path, target, body, warnings) => {
    const s = target.settings;
    const endpoint = (target.baseUrl ?? String(s.baseUrl ?? '')).replace(/\/+$/, '');
    if (endpoint === '') throw new Error('the connection has no resource endpoint (baseUrl)');
    const deployment = deploymentOf(target.upstreamModel, s.deployments);
    const apiVersion = typeof s.apiVersion === 'string' && s.apiVersion !== '' ? s.apiVersion : undefined;
    let url: string;
    if (s.apiStyle === 'v1') {
      // The v1 form names the deployment in the body; an api-version only when the connection sets one (preview).
      body.model = deployment;
      url = `${endpoint}/openai/v1${path}${apiVersion ? `?api-version=${encodeURIComponent(apiVersion)}` : ''}`;
    } else {
      if (!apiVersion) throw new Error('the connection has no apiVersion, which the deployments form requires');
      url = `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}${path}?api-version=${encodeURIComponent(apiVersion)}`;
    }
    const headers: Record<string, string> = { ...target.headers, 'content-type': 'application/json' };
    const { apiKey, clientSecret } = target.secrets;
    if (apiKey) headers['api-key'] = apiKey;
    else if (clientSecret && typeof s.tenantId === 'string' && typeof s.clientId === 'string') {
      const token = await tokens.token({
        authorityUrl: typeof s.authorityUrl === 'string' ? s.authorityUrl : ENTRA_AUTHORITY_URL,
        tenantId: s.tenantId,
        clientId: s.clientId,
        clientSecret,
        scope: typeof s.tokenScope === 'string' ? s.tokenScope : AZURE_COGNITIVE_SERVICES_SCOPE,
      }, target.fetch);
      headers.authorization = `Bearer ${token}`;
    }
    return { request: { url, method: 'POST', headers, body: JSON.stringify(body) }, warnings };
  };

  return {
    specificationVersion: 'v2',
    id: 'azure-openai',
    providerName: 'azure.ai.openai',
    nativeFormat: 'openai',
    settings,
    validateSettings: (input) => validateSettingsWith(settings, input, check),
    // Azure's current api-versions take max_completion_tokens, which its reasoning models require.
    ...openAIWireOperations({ maxTokensField: 'max_completion_tokens', send }),
    mapError: mapAzureOpenAIError,
  };
}

export const azureOpenAIAdapter = createAzureOpenAIAdapter();
