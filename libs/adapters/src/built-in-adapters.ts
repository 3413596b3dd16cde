import type { ProviderAdapter, ProviderAdapterV2 } from '#libs/adapter-sdk';
import { anthropicAdapter } from './anthropic/anthropic.adapter.js';
import { bedrockAdapter } from './bedrock/bedrock.adapter.js';
import { azureOpenAIAdapter } from './azure-openai/azure-openai.adapter.js';
import { googleAIStudioAdapter } from './gemini/google-ai-studio.adapter.js';
import { vertexAIAdapter } from './gemini/vertex-ai.adapter.js';
import { openAIAdapterV2, openAICompatibleAdapterV2 } from './openai-compatible/openai-compatible-v2.adapter.js';
import { openAICompatibleAdapter } from './openai-compatible/openai-compatible.adapter.js';

/*
 * The adapters shipped with the gateway, as a plugin module: loadAdapterRegistry registers this
 * module's exports through the same AdapterRegistry.registerModule path a package named in
 * ADAPTER_PLUGINS takes, so built-ins pass the checks a plugin does and a plugin author edits no list.
 */

/** Contract v1, for today's /v1 handler (AdapterRegistry.get) until it is rewired onto v2. */
export const builtInAdapters: readonly ProviderAdapter[] = [
  openAICompatibleAdapter,
  // OpenAI itself speaks the same protocol; a connection may name it for clarity.
  { ...openAICompatibleAdapter, id: 'openai' },
];

/** Contract v2 (AdapterRegistry.getV2): the same providers, plus those only v2 can express. */
export const builtInAdaptersV2: readonly ProviderAdapterV2[] = [
  openAICompatibleAdapterV2,
  openAIAdapterV2,
  anthropicAdapter,
  bedrockAdapter,
  azureOpenAIAdapter,
  googleAIStudioAdapter,
  vertexAIAdapter,
];

/** What the loader reads: ids in both versions pair up (get() the v1, getV2() the v2). */
export const adapters: readonly (ProviderAdapter | ProviderAdapterV2)[] = [...builtInAdaptersV2, ...builtInAdapters];
