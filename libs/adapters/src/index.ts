import type { ProviderAdapter } from '#libs/adapter-sdk';
import { openAICompatibleAdapter } from './openai-compatible/openai-compatible.adapter.js';

export { openAICompatibleAdapter, usageFromOpenAI } from './openai-compatible/openai-compatible.adapter.js';

/** The adapters shipped with the gateway; plugins are loaded beside them by AdapterRegistry.load. */
export const builtInAdapters: readonly ProviderAdapter[] = [
  openAICompatibleAdapter,
  // OpenAI itself speaks the same protocol; a connection may name it for clarity.
  { ...openAICompatibleAdapter, id: 'openai' },
];
