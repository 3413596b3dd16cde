import type { ProviderAdapter, ProviderAdapterV2 } from '#libs/adapter-sdk';
import { anthropicAdapter } from './anthropic/anthropic.adapter.js';
import { openAIAdapterV2, openAICompatibleAdapterV2 } from './openai-compatible/openai-compatible-v2.adapter.js';
import { openAICompatibleAdapter } from './openai-compatible/openai-compatible.adapter.js';

export { openAICompatibleAdapter, usageFromOpenAI } from './openai-compatible/openai-compatible.adapter.js';
export { createOpenAICompatibleAdapter, mapOpenAIError, openAIAdapterV2, openAICompatibleAdapterV2 } from './openai-compatible/openai-compatible-v2.adapter.js';
export { anthropicAdapter, mapAnthropicError } from './anthropic/anthropic.adapter.js';

/** The adapters shipped with the gateway (contract v1, for today's handler); plugins are loaded beside them by AdapterRegistry.load. */
export const builtInAdapters: readonly ProviderAdapter[] = [
  openAICompatibleAdapter,
  // OpenAI itself speaks the same protocol; a connection may name it for clarity.
  { ...openAICompatibleAdapter, id: 'openai' },
];

/** The same adapters on contract v2, plus those only v2 can express; the gateway switches to this list when its handler is rewired. */
export const builtInAdaptersV2: readonly ProviderAdapterV2[] = [openAICompatibleAdapterV2, openAIAdapterV2, anthropicAdapter];
