export { openAICompatibleAdapter, usageFromOpenAI } from './openai-compatible/openai-compatible.adapter.js';
export { createOpenAICompatibleAdapter, mapOpenAIError, openAIWireOperations, openAIAdapterV2, openAICompatibleAdapterV2 } from './openai-compatible/openai-compatible-v2.adapter.js';
export { anthropicAdapter, mapAnthropicError } from './anthropic/anthropic.adapter.js';
export { azureOpenAIAdapter, createAzureOpenAIAdapter, mapAzureOpenAIError } from './azure-openai/azure-openai.adapter.js';
export { EntraTokenSource, type EntraCredentials, type TokenFetch } from './azure-openai/entra-token-source.js';
export { builtInAdapters, builtInAdaptersV2 } from './built-in-adapters.js';
export { BUILT_IN_ADAPTERS, loadAdapterRegistry, type LoadAdapterRegistryOptions } from './load-adapter-registry.js';
