import { validateSettings, type CallTarget, type ProviderAdapterV2, type SettingsSchema, type SettingsValidation } from '#libs/adapter-sdk';
import { mapGeminiError } from './gemini-errors.js';
import { geminiRequestFromCanonical, vertexPredictEmbedRequest } from './gemini-request.js';
import { chatResponseFromGemini, createGeminiStreamDecoder, embeddingsFromVertexPredict } from './gemini-response.js';
import { parseServiceAccountKey, VertexTokenCache } from './vertex-token-source.js';

const settings: SettingsSchema = {
  fields: [
    {
      name: 'serviceAccountJson',
      kind: 'secret',
      type: 'string',
      required: true,
      description: 'The JSON key file of a service account with the Vertex AI User role; its OAuth token is fetched and cached by the gateway.',
    },
    { name: 'project', kind: 'setting', type: 'string', required: false, description: 'Google Cloud project id (default: the key file’s project_id).' },
    { name: 'location', kind: 'setting', type: 'string', required: false, default: 'us-central1', description: 'Vertex AI location, e.g. us-central1, europe-west4 or global.' },
    { name: 'baseUrl', kind: 'setting', type: 'url', required: false, description: 'Endpoint override (a private endpoint, a test’s fake); default https://{location}-aiplatform.googleapis.com.' },
  ],
};

/** Project ids and locations become part of the host and path: only what Google allows in them. */
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.-]+:[a-z][a-z0-9-]{4,28}[a-z0-9]$/;
const LOCATION = /^[a-z]+(?:-[a-z]+[0-9]*)*$/;

/** The base checks, then the key file itself (type service_account, client_email, private_key) and the project. */
function validateVertexSettings(input: unknown): SettingsValidation {
  const checked = validateSettings(settings, input);
  if ('errors' in checked) return checked;
  const key = parseServiceAccountKey(checked.value.secrets.serviceAccountJson ?? '');
  if ('problem' in key) return { errors: [{ field: 'serviceAccountJson', message: key.problem }] };
  const s = checked.value.settings;
  if (s.project === undefined && key.key.project_id !== undefined) s.project = key.key.project_id;
  const errors = [];
  if (typeof s.project !== 'string') errors.push({ field: 'project', message: 'is required (the key file names no project_id)' });
  else if (!PROJECT.test(s.project)) errors.push({ field: 'project', message: 'must be a Google Cloud project id' });
  if (typeof s.location !== 'string' || !LOCATION.test(s.location)) errors.push({ field: 'location', message: 'must be a Vertex AI location such as us-central1 or global' });
  return errors.length > 0 ? { errors } : checked;
}

/** https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models */
function modelUrl(target: CallTarget): string {
  const location = typeof target.settings.location === 'string' ? target.settings.location : 'us-central1';
  const project = String(target.settings.project ?? '');
  const host = location === 'global' ? 'aiplatform.googleapis.com' : `${location}-aiplatform.googleapis.com`;
  const base = (target.baseUrl ?? (typeof target.settings.baseUrl === 'string' ? target.settings.baseUrl : `https://${host}`)).replace(/\/+$/, '');
  const model = target.upstreamModel.replace(/^(?:publishers\/google\/)?models\//, '');
  return `${base}/v1/projects/${project}/locations/${location}/publishers/google/models/${model}`;
}

export interface VertexAIAdapterOptions {
  /** Where tokens come from; one cache per adapter instance, shared by its connections' calls. */
  tokens?: VertexTokenCache;
}

/** Vertex AI's Gemini models: the same model API as AI Studio, authenticated with a service account's cached OAuth token. */
export function createVertexAIAdapter(options: VertexAIAdapterOptions = {}): ProviderAdapterV2 {
  const tokens = options.tokens ?? new VertexTokenCache();
  const headers = async (target: CallTarget): Promise<Record<string, string>> => ({
    ...target.headers,
    'content-type': 'application/json',
    authorization: `Bearer ${await tokens.token(target.secrets.serviceAccountJson ?? '', target.fetch)}`,
  });
  return {
    specificationVersion: 'v2',
    id: 'vertex-ai',
    providerName: 'gcp.vertex_ai',
    nativeFormat: 'gemini',
    settings,
    validateSettings: validateVertexSettings,
    // The key file's token_uri is called for every token: the vault checks its address as it does baseUrl's.
    embeddedUrls({ secrets }) {
      const parsed = parseServiceAccountKey(secrets.serviceAccountJson ?? '');
      return 'key' in parsed && parsed.key.token_uri !== undefined ? [{ field: 'serviceAccountJson', name: 'token_uri', url: parsed.key.token_uri }] : [];
    },
    chat: {
      async buildRequest(req, target) {
        const { body, warnings } = geminiRequestFromCanonical(req);
        const url = req.stream ? `${modelUrl(target)}:streamGenerateContent?alt=sse` : `${modelUrl(target)}:generateContent`;
        return { request: { url, method: 'POST', headers: await headers(target), body: JSON.stringify(body) }, warnings };
      },
      parseResponse: chatResponseFromGemini,
      createStreamDecoder: createGeminiStreamDecoder,
    },
    embedding: {
      async buildRequest(req, target) {
        const { body, warnings } = vertexPredictEmbedRequest(req, target.upstreamModel.replace(/^(?:publishers\/google\/)?models\//, ''));
        return { request: { url: `${modelUrl(target)}:predict`, method: 'POST', headers: await headers(target), body: JSON.stringify(body) }, warnings };
      },
      parseResponse: (body) => embeddingsFromVertexPredict(body),
    },
    mapError: mapGeminiError,
  };
}

export const vertexAIAdapter: ProviderAdapterV2 = createVertexAIAdapter();
