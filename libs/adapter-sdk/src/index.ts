export * from './adapter.js';
export * from './adapter-registry.js';
export * from './sse-event-splitter.js';
// Contract v2
export * from './adapter-v2.js';
export * from './canonical.js';
export * from './settings-schema.js';
export * from './error-helpers.js';
export * from './sse-stream-decoder.js';
export * from './response-stream-parts.js';
export * from './v1-adapter-bridge.js';
// Wire-format codecs: client formats in, canonical through, any format out.
export * from './formats/sse-format.js';
export * from './formats/client-request.js';
export * from './formats/openai/openai-wire.js';
export * from './formats/openai/openai-usage.js';
export * from './formats/openai/openai-chat-request.js';
export * from './formats/openai/openai-chat-response.js';
export * from './formats/openai/openai-chat-stream.js';
export * from './formats/anthropic/anthropic-wire.js';
export * from './formats/anthropic/anthropic-usage.js';
export * from './formats/anthropic/anthropic-messages-request.js';
export * from './formats/anthropic/anthropic-messages-response.js';
export * from './formats/anthropic/anthropic-messages-stream.js';
export * from './formats/openai/openai-completions.js';
export * from './formats/openai/openai-embeddings.js';
