import type { ProviderAdapter } from './adapter.js';
import type { BuiltUpstreamRequest, CallTarget, ProviderAdapterV2 } from './adapter-v2.js';
import type { ChatRequest } from './canonical.js';
import { jsonOrUndefined } from './error-helpers.js';
import { openAIChatRequestFromCanonical } from './formats/openai/openai-chat-request.js';
import { chatResponseFromOpenAI } from './formats/openai/openai-chat-response.js';
import { createOpenAIChatStreamDecoder } from './formats/openai/openai-chat-stream.js';
import { validateSettings, type SettingsSchema } from './settings-schema.js';

/** What a v1 connection has: one API key (the base URL and headers are the connection's own columns). */
const V1_SETTINGS: SettingsSchema = {
  fields: [{ name: 'apiKey', kind: 'secret', type: 'string', required: true, description: 'The API key sent to the provider.' }],
};

/**
 * Exposes a v1 adapter through contract v2, so the gateway has one code path while v1 plugins exist.
 * Contract v1 translated only the request: the gateway relayed the answer to OpenAI-format clients as
 * it came, so a v1 adapter's upstream answers in OpenAI's chat format by definition. The bridge
 * builds the OpenAI body from the canonical request and lets the v1 adapter turn it into its
 * upstream request (URL, auth, body changes); answers and streams are read with the OpenAI codecs;
 * errors go through the v1 adapter's own mapError.
 */
export function bridgeV1Adapter(v1: ProviderAdapter): ProviderAdapterV2 {
  return {
    specificationVersion: 'v2',
    id: v1.id,
    providerName: v1.providerName,
    nativeFormat: 'openai',
    settings: V1_SETTINGS,
    validateSettings: (input) => validateSettings(V1_SETTINGS, input),
    chat: {
      async buildRequest(request: ChatRequest, target: CallTarget): Promise<BuiltUpstreamRequest> {
        const { body, warnings } = openAIChatRequestFromCanonical(request, { model: target.upstreamModel, maxTokensField: 'max_tokens' });
        const built = v1.buildChatRequest({ ...body, model: target.upstreamModel }, {
          baseUrl: target.baseUrl ?? '',
          apiKey: target.secrets.apiKey ?? '',
          headers: target.headers ?? {},
          upstreamModel: target.upstreamModel,
        });
        return { request: built.request, warnings: [...warnings, ...built.warnings.map((message) => ({ type: 'other' as const, message }))] };
      },
      // An OpenAI-format client's body goes to the v1 adapter as it came: exactly today's path.
      async buildNativeRequest(body: Record<string, unknown>, target: CallTarget): Promise<BuiltUpstreamRequest> {
        const built = v1.buildChatRequest({ ...body, model: target.upstreamModel }, {
          baseUrl: target.baseUrl ?? '',
          apiKey: target.secrets.apiKey ?? '',
          headers: target.headers ?? {},
          upstreamModel: target.upstreamModel,
        });
        return { request: built.request, warnings: built.warnings.map((message) => ({ type: 'other' as const, message })) };
      },
      parseResponse: chatResponseFromOpenAI,
      createStreamDecoder: createOpenAIChatStreamDecoder,
    },
    mapError: (status, body, headers) => v1.mapError(status, jsonOrUndefined(body), headers),
  };
}
