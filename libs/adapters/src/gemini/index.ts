export { googleAIStudioAdapter } from './google-ai-studio.adapter.js';
export { createVertexAIAdapter, vertexAIAdapter, type VertexAIAdapterOptions } from './vertex-ai.adapter.js';
export { mapGeminiError, geminiErrorFromBody } from './gemini-errors.js';
export { geminiRequestFromCanonical, geminiSchema } from './gemini-request.js';
export { canonicalUsageFromGemini, chatResponseFromGemini, createGeminiStreamDecoder, finishReasonFromGemini } from './gemini-response.js';
export { fetchTokenWithGoogleAuth, parseServiceAccountKey, VertexTokenCache, type AccessToken, type ServiceAccountKey, type TokenFetcher } from './vertex-token-source.js';
