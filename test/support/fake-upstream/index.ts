export {
  startFakeAzureOpenAI,
  startFakeOpenAI,
  type FakeAzureOpenAI,
  type FakeOpenAI,
  type RecordedRequest,
  type StartFakeAzureOpenAIOptions,
  type StartFakeOpenAIOptions,
} from './fake-openai.js';
export * from './azure-wire.js';
export {
  fakeErrors,
  type FakeAnswer,
  type FakeBehaviour,
  type FakeEcho,
  type FakeEchoForm,
  type FakeError,
  type FakeFinishReason,
  type FakeStreamError,
  type FakeToolCall,
  type FakeUsage,
} from './fake-behaviour.js';
export * from './openai-wire.js';
export { startFakeAnthropic, type FakeAnthropic, type StartFakeAnthropicOptions } from './fake-anthropic.js';
export * from './anthropic-behaviour.js';
export * from './anthropic-wire.js';
export * from './anthropic-replay.js';
export { startFakeBedrock, TEST_AWS_CREDENTIALS, type FakeBedrock, type StartFakeBedrockOptions } from './fake-bedrock.js';
export * from './bedrock-wire.js';
export { fakeGeminiVector, startFakeGemini, type FakeGemini, type StartFakeGeminiOptions } from './fake-gemini.js';
export * from './gemini-behaviour.js';
