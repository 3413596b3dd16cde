export { openAICompatibleAdapter, usageFromOpenAI } from './openai-compatible/openai-compatible.adapter.js';
export { createOpenAICompatibleAdapter, mapOpenAIError, openAIAdapterV2, openAICompatibleAdapterV2 } from './openai-compatible/openai-compatible-v2.adapter.js';
export { anthropicAdapter, mapAnthropicError } from './anthropic/anthropic.adapter.js';
export { bedrockAdapter } from './bedrock/bedrock.adapter.js';
export { mapBedrockError } from './bedrock/bedrock-errors.js';
export { bedrockEventStreamCodec } from './bedrock/bedrock-event-stream.js';
export { signAwsRequest } from './bedrock/bedrock-signer.js';
export { builtInAdapters, builtInAdaptersV2 } from './built-in-adapters.js';
export { BUILT_IN_ADAPTERS, loadAdapterRegistry, type LoadAdapterRegistryOptions } from './load-adapter-registry.js';
