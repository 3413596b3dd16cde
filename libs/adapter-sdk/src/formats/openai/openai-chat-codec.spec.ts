import OpenAI from 'openai';
import { openAISchemaErrors } from '../../../../../test/support/fake-upstream/openai-schemas.js';
import { toolUseStream, thinkingStream, overloadedMidStream, toSse } from '../../../../../test/fixtures/anthropic/messages-fixtures.js';
import type { CanonicalStreamPart, ChatRequest, ChatResponse } from '../../canonical.js';
import { decodeInChunks, utf8 } from '../../testing/chunk-splits.js';
import { createAnthropicMessagesStreamDecoder } from '../anthropic/anthropic-messages-stream.js';
import { formatSseEvent, type OutgoingSseEvent } from '../sse-format.js';
import { chatRequestFromOpenAI, openAIChatRequestFromCanonical } from './openai-chat-request.js';
import { openAIChatResponseFromCanonical } from './openai-chat-response.js';
import { OpenAIChatChunkEncoder } from './openai-chat-stream.js';

const IMAGE = 'data:image/png;base64,iVBORw0KGgo=';

/** A client body using most of what Chat Completions has: developer prompt, image, tool round, JSON schema, and a field canonical has no name for. */
const clientBody = {
  model: 'gw-chat',
  messages: [
    { role: 'developer', content: 'Answer in French.' },
    { role: 'user', content: [{ type: 'text', text: 'What is in this image, and the weather?' }, { type: 'image_url', image_url: { url: IMAGE, detail: 'low' } }] },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: '18°C, sunny' },
  ],
  tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
  tool_choice: 'required',
  parallel_tool_calls: false,
  temperature: 0.2,
  max_tokens: 300,
  stop: 'END',
  seed: 42,
  response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
  logit_bias: { '50256': -100 },
} satisfies OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming;

function decoded(body: unknown): ChatRequest {
  const r = chatRequestFromOpenAI(body);
  if ('invalid' in r) throw new Error(r.invalid.message);
  return r.value;
}

describe('OpenAI chat request codec', () => {
  it('reads a client body into the canonical request, keeping what it has no field for in providerOptions.openai', () => {
    expect(decoded(clientBody)).toEqual({
      model: 'gw-chat',
      stream: false,
      includeUsage: false,
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'Answer in French.' }], providerOptions: { openai: { role: 'developer' } } },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image, and the weather?' },
            { type: 'image', source: { type: 'base64', mediaType: 'image/png', data: 'iVBORw0KGgo=' }, detail: 'low' },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: '{"city":"Paris"}' }] },
        { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', content: [{ type: 'text', text: '18°C, sunny' }] }] },
      ],
      tools: [{ type: 'function', name: 'get_weather', description: 'Weather by city', inputSchema: clientBody.tools[0].function.parameters }],
      toolChoice: { type: 'required' },
      parallelToolCalls: false,
      temperature: 0.2,
      maxOutputTokens: 300,
      stopSequences: ['END'],
      seed: 42,
      responseFormat: { type: 'json-schema', name: 'answer', schema: { type: 'object' }, strict: true },
      providerOptions: { openai: { logit_bias: { '50256': -100 } } },
    });
  });

  it('writes the canonical request back as the same OpenAI body (OpenAI to OpenAI loses nothing)', () => {
    const { body, warnings } = openAIChatRequestFromCanonical(decoded(clientBody), { model: 'gw-chat', maxTokensField: 'max_tokens' });
    expect(warnings).toEqual([]);
    // A stop string comes back as the one-element list OpenAI also accepts.
    expect(body).toEqual({ ...clientBody, stop: ['END'] });
  });

  it('keeps message fields canonical has no name for (a participant name) on the way back to OpenAI', () => {
    const body = { model: 'm', messages: [{ role: 'user', name: 'alice', content: 'hi' }, { role: 'developer', name: 'ops', content: 'be kind' }] };
    expect(openAIChatRequestFromCanonical(decoded(body), { model: 'm', maxTokensField: 'max_tokens' }).body).toEqual(body);
  });

  it('names the bad field of a body it cannot read', () => {
    expect(chatRequestFromOpenAI({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] })).toEqual({ invalid: { param: 'messages[0].role', message: 'unknown role "wizard".' } });
    expect(chatRequestFromOpenAI({ model: 'm', messages: [], temperature: 'hot' })).toEqual({ invalid: { param: 'temperature', message: 'temperature must be a number.' } });
    expect(chatRequestFromOpenAI('[]')).toMatchObject({ invalid: { param: 'body' } });
  });

  it('warns about content it cannot translate instead of dropping it silently', () => {
    const r = chatRequestFromOpenAI({ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] });
    expect('value' in r && r.warnings).toEqual([{ type: 'unsupported-setting', setting: 'messages[].content[].input_audio', details: 'this content part type cannot be translated' }]);
  });
});

describe('OpenAI chat response writer', () => {
  const response: ChatResponse = {
    id: 'msg_01',
    model: 'claude-sonnet-4-5',
    choices: [
      {
        index: 0,
        content: [
          { type: 'reasoning', text: 'think', signature: 'sig' },
          { type: 'text', text: 'Let me check.' },
          { type: 'tool-call', toolCallId: 'toolu_1', toolName: 'get_weather', input: '{"city":"Paris"}' },
        ],
        finishReason: 'tool-calls',
        rawFinishReason: 'tool_use',
      },
    ],
    usage: { input: { total: 1_100, noCache: 100, cacheRead: 1_000, cacheWrite: 0 }, output: { total: 50, text: 30, reasoning: 20 }, extra: {} },
  };

  it("writes a body OpenAI's schema accepts, with tool calls and usage details", () => {
    const body = openAIChatResponseFromCanonical(response, { fallbackId: 'chatcmpl-gw', now: 1_765_000_000, model: 'gw-chat' });
    expect(openAISchemaErrors('CreateChatCompletionResponse', body)).toEqual([]);
    expect(body.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: 'Let me check.', refusal: null, tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
    expect(body.usage).toEqual({
      prompt_tokens: 1_100,
      completion_tokens: 50,
      total_tokens: 1_150,
      prompt_tokens_details: { cached_tokens: 1_000 },
      completion_tokens_details: { reasoning_tokens: 20 },
    });
  });
});

/** Runs parts through the chunk encoder and returns the SSE text a client would read. */
function encode(parts: CanonicalStreamPart[], includeUsage: boolean): { events: OutgoingSseEvent[]; text: string } {
  const encoder = new OpenAIChatChunkEncoder({ fallbackId: 'chatcmpl-gw', now: 1_765_000_000, model: 'gw-chat', includeUsage });
  const events = [...parts.flatMap((p) => encoder.push(p)), ...encoder.end()];
  return { events, text: events.map(formatSseEvent).join('') };
}

const fromAnthropic = (events: Parameters<typeof toSse>[0]): CanonicalStreamPart[] => decodeInChunks(() => createAnthropicMessagesStreamDecoder(), utf8(toSse(events)), 11);

describe('OpenAI chunk writer', () => {
  it("writes every chunk of a translated Anthropic tool-use stream so OpenAI's stream schema accepts it", () => {
    const { events } = encode(fromAnthropic(toolUseStream), true);
    expect(events.at(-1)).toEqual({ data: '[DONE]' });
    for (const e of events.slice(0, -1)) expect(openAISchemaErrors('CreateChatCompletionStreamResponse', e.data)).toEqual([]);
  });

  it('is read by the openai client into the tool call, the finish reason and the usage', async () => {
    const { text } = encode(fromAnthropic(toolUseStream), true);
    const client = new OpenAI({ apiKey: 'gw-key', maxRetries: 0, fetch: async () => new Response(text, { headers: { 'content-type': 'text/event-stream' } }) });
    const final = await client.chat.completions.stream({ model: 'gw-chat', messages: [{ role: 'user', content: 'weather?' }], stream_options: { include_usage: true } }).finalChatCompletion();
    expect(final.id).toBe('msg_01StreamTool');
    expect(final.choices[0].message.content).toBe('Checking the weather.');
    expect(final.choices[0].message.tool_calls?.[0]).toMatchObject({ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', function: { name: 'get_weather', arguments: '{"location": "San Francisco, CA", "unit": "fahrenheit"}' } });
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.usage).toMatchObject({ prompt_tokens: 472, completion_tokens: 89, total_tokens: 561 });
  });

  it('leaves the usage chunk out when the client did not ask for it, and reasoning out always', () => {
    const { events } = encode(fromAnthropic(thinkingStream), false);
    const chunks = events.flatMap((e) => (e.data === '[DONE]' ? [] : [e.data as { choices: Array<{ delta: { content?: string } }>; usage?: unknown }]));
    expect(chunks.some((c) => c.usage !== undefined)).toBe(false);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('27 * 453 = 12,231');
  });

  it('ends a failed stream with an error object in the ErrorResponse schema and no [DONE]', () => {
    const { events } = encode(fromAnthropic(overloadedMidStream), true);
    expect(events.at(-1)).toEqual({ data: { error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded' } } });
    expect(openAISchemaErrors('ErrorResponse', events.at(-1)?.data)).toEqual([]);
    expect(events.some((e) => e.data === '[DONE]')).toBe(false);
  });
});
