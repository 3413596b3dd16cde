import { validateSettings, type CallTarget, type ProviderAdapterV2, type SettingsSchema } from '#libs/adapter-sdk';
import { mapGeminiError } from './gemini-errors.js';
import { geminiBatchEmbedRequest, geminiRequestFromCanonical } from './gemini-request.js';
import { chatResponseFromGemini, createGeminiStreamDecoder, embeddingsFromGeminiBatch } from './gemini-response.js';

const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

const settings: SettingsSchema = {
  fields: [
    { name: 'apiKey', kind: 'secret', type: 'string', required: true, description: 'Google AI Studio API key, sent as x-goog-api-key.' },
    { name: 'baseUrl', kind: 'setting', type: 'url', required: false, default: DEFAULT_BASE_URL, description: 'API root; /{apiVersion}/models/{model}:… is appended.' },
    { name: 'apiVersion', kind: 'setting', type: 'string', required: false, default: 'v1beta', enum: ['v1beta', 'v1', 'v1alpha'], description: 'The Gemini API version (https://ai.google.dev/gemini-api/docs/api-versions).' },
  ],
};

/** The model's resource URL up to the method: `…/v1beta/models/gemini-2.5-flash`; a model given as `models/…` is taken as is. */
function modelUrl(target: CallTarget): string {
  const base = (target.baseUrl ?? (typeof target.settings.baseUrl === 'string' ? target.settings.baseUrl : DEFAULT_BASE_URL)).replace(/\/+$/, '');
  const version = typeof target.settings.apiVersion === 'string' ? target.settings.apiVersion : 'v1beta';
  const model = target.upstreamModel.replace(/^models\//, '');
  return `${base}/${version}/models/${model}`;
}

function headers(target: CallTarget): Record<string, string> {
  return { ...target.headers, 'content-type': 'application/json', 'x-goog-api-key': target.secrets.apiKey ?? '' };
}

/** Google AI Studio's Gemini API (https://ai.google.dev/api): generateContent, streamGenerateContent (SSE), batchEmbedContents. */
export const googleAIStudioAdapter: ProviderAdapterV2 = {
  specificationVersion: 'v2',
  id: 'google-ai-studio',
  providerName: 'gcp.gemini',
  nativeFormat: 'gemini',
  settings,
  validateSettings: (input) => validateSettings(settings, input),
  chat: {
    async buildRequest(req, target) {
      const { body, warnings } = geminiRequestFromCanonical(req);
      const url = req.stream ? `${modelUrl(target)}:streamGenerateContent?alt=sse` : `${modelUrl(target)}:generateContent`;
      return { request: { url, method: 'POST', headers: headers(target), body: JSON.stringify(body) }, warnings };
    },
    parseResponse: chatResponseFromGemini,
    createStreamDecoder: createGeminiStreamDecoder,
  },
  embedding: {
    async buildRequest(req, target) {
      const { body, warnings } = geminiBatchEmbedRequest(req, target.upstreamModel.replace(/^models\//, ''));
      return { request: { url: `${modelUrl(target)}:batchEmbedContents`, method: 'POST', headers: headers(target), body: JSON.stringify(body) }, warnings };
    },
    parseResponse: (body) => embeddingsFromGeminiBatch(body),
  },
  mapError: mapGeminiError,
};
