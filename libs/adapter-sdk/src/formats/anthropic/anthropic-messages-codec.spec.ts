import Anthropic from '@anthropic-ai/sdk';
import type { CanonicalStreamPart, ChatRequest } from '../../canonical.js';
import { decodeInChunks, utf8 } from '../../testing/chunk-splits.js';
import { chatRequestFromOpenAI, openAIChatRequestFromCanonical } from '../openai/openai-chat-request.js';
import { createOpenAIChatStreamDecoder } from '../openai/openai-chat-stream.js';
import { formatSseEvent } from '../sse-format.js';
import { anthropicMessagesRequestFromCanonical, chatRequestFromAnthropic } from './anthropic-messages-request.js';
import { anthropicMessageFromCanonical } from './anthropic-messages-response.js';
import { AnthropicEventEncoder, anthropicErrorResponse } from './anthropic-messages-stream.js';
import type { AnthropicErrorResponse, AnthropicMessage, AnthropicMessageStreamEvent } from './anthropic-wire.js';

// Compile-time: what the writers produce is what the official SDK declares. A field the SDK
// requires and a writer forgets fails `npm run typecheck`, not a client in production.
export const messageIsSdkMessage = (m: AnthropicMessage): Anthropic.Message => m;
export const eventIsSdkEvent = (e: AnthropicMessageStreamEvent): Anthropic.RawMessageStreamEvent => e;
export const errorIsSdkError = (e: AnthropicErrorResponse): Anthropic.ErrorResponse => e;

const IMAGE_B64 = 'iVBORw0KGgo=';

function canonical(r: ReturnType<typeof chatRequestFromOpenAI>): ChatRequest {
  if ('invalid' in r) throw new Error(r.invalid.message);
  return r.value;
}

describe('OpenAI request -> canonical -> Anthropic request', () => {
  it('moves the system prompt out, turns images, tool calls and tool results into blocks, and maps tools and tool_choice', () => {
    const openAIBody = {
      model: 'gw-claude',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${IMAGE_B64}` } }] },
        { role: 'assistant', content: 'Checking.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        { role: 'user', content: 'And tomorrow? See https://example.com/cloud.jpg' },
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cloud.jpg' } }] },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      max_completion_tokens: 256,
      stop: ['###'],
      user: 'user-42',
      stream: true,
    };
    const { body, warnings } = anthropicMessagesRequestFromCanonical(canonical(chatRequestFromOpenAI(openAIBody)), { model: 'claude-sonnet-4-5', defaultMaxTokens: 4096 });
    const expected = {
      model: 'claude-sonnet-4-5',
      max_tokens: 256,
      system: 'You are terse.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather here?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: IMAGE_B64 } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
          ],
        },
        {
          // The tool result and the next user turns are one user turn: Anthropic alternates roles.
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: [{ type: 'text', text: '18°C' }] },
            { type: 'text', text: 'And tomorrow? See https://example.com/cloud.jpg' },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cloud.jpg' } },
          ],
        },
      ],
      tools: [{ name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: true },
      stop_sequences: ['###'],
      metadata: { user_id: 'user-42' },
      stream: true,
    } satisfies Anthropic.MessageCreateParamsStreaming;
    expect(body).toEqual(expected);
    expect(warnings).toEqual([]);
  });

  it("carries LiteLLM-style cache_control on OpenAI parts and messages to Anthropic's blocks, and warns about a participant name", () => {
    const { body, warnings } = anthropicMessagesRequestFromCanonical(
      canonical(
        chatRequestFromOpenAI({
          model: 'm',
          messages: [
            { role: 'system', content: [{ type: 'text', text: 'Long policy...', cache_control: { type: 'ephemeral' } }] },
            { role: 'user', name: 'alice', content: [{ type: 'text', text: 'Q1' }, { type: 'text', text: 'Q2' }], cache_control: { type: 'ephemeral', ttl: '1h' } },
          ],
        }),
      ),
      { model: 'claude', defaultMaxTokens: 10 },
    );
    expect(body.system).toEqual([{ type: 'text', text: 'Long policy...', cache_control: { type: 'ephemeral' } }]);
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Q1' },
          { type: 'text', text: 'Q2', cache_control: { type: 'ephemeral', ttl: '1h' } },
        ],
      },
    ]);
    expect(warnings).toEqual([{ type: 'unsupported-setting', setting: 'messages.name', details: 'an option only openai understands' }]);
  });

  it('warns about what Anthropic cannot take: n, penalties, json_object, reasoning effort, unknown OpenAI fields', () => {
    const { warnings } = anthropicMessagesRequestFromCanonical(
      canonical(
        chatRequestFromOpenAI({
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          n: 2,
          presence_penalty: 1,
          response_format: { type: 'json_object' },
          reasoning_effort: 'high',
          logprobs: true,
        }),
      ),
      { model: 'claude', defaultMaxTokens: 10 },
    );
    expect(warnings.map((w) => (w.type === 'unsupported-setting' ? w.setting : w.message))).toEqual([
      'logprobs',
      'presence_penalty',
      'n',
      'response_format.json_object',
      'reasoning_effort',
    ]);
  });

  it('sends no tool_choice without tools (Anthropic refuses it), in either direction', () => {
    const fromAnthropic = chatRequestFromAnthropic({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tool_choice: { type: 'auto', disable_parallel_tool_use: true } });
    if ('invalid' in fromAnthropic) throw new Error(fromAnthropic.invalid.message);
    expect(anthropicMessagesRequestFromCanonical(fromAnthropic.value, { model: 'claude', defaultMaxTokens: 10 }).body).not.toHaveProperty('tool_choice');
    expect(openAIChatRequestFromCanonical(fromAnthropic.value, { model: 'gpt', maxTokensField: 'max_tokens' }).body).not.toHaveProperty('parallel_tool_calls');
  });

  it('never sends unsigned reasoning back to Anthropic, and says so', () => {
    const { body, warnings } = anthropicMessagesRequestFromCanonical(
      {
        model: 'm',
        stream: false,
        includeUsage: false,
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'q' }] },
          { role: 'assistant', content: [{ type: 'reasoning', text: 'from another provider' }, { type: 'text', text: 'a' }] },
          { role: 'user', content: [{ type: 'text', text: 'q2' }] },
        ],
      },
      { model: 'claude', defaultMaxTokens: 10 },
    );
    expect((body.messages as Array<{ content: unknown[] }>)[1].content).toEqual([{ type: 'text', text: 'a' }]);
    expect(warnings).toEqual([{ type: 'unsupported-setting', setting: 'messages.reasoning', details: 'reasoning without an Anthropic signature is left out of the history' }]);
  });
});

describe('Anthropic request codec', () => {
  /** What Claude Code sends: system blocks with cache_control, thinking, signed thinking in the history, tool results. */
  const anthropicBody = {
    model: 'claude-sonnet-4-5',
    max_tokens: 2048,
    system: [{ type: 'text', text: 'You are a coding agent.', cache_control: { type: 'ephemeral' } }],
    messages: [
      { role: 'user', content: 'List files.' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'I should call ls.', signature: 'sig-1' },
          { type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.ts\nb.ts', is_error: false, cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Now read a.ts' },
        ],
      },
    ],
    tools: [{ name: 'bash', description: 'Run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
    tool_choice: { type: 'any' },
    thinking: { type: 'enabled', budget_tokens: 1024 },
    metadata: { user_id: 'dev-7' },
    stream: true,
  } satisfies Anthropic.MessageCreateParamsStreaming;

  it('reads a Messages body into canonical, with cache_control kept as anthropic options on its part', () => {
    const r = chatRequestFromAnthropic(anthropicBody);
    if ('invalid' in r) throw new Error(r.invalid.message);
    expect(r.value).toEqual({
      model: 'claude-sonnet-4-5',
      stream: true,
      includeUsage: true,
      maxOutputTokens: 2048,
      user: 'dev-7',
      reasoning: { budgetTokens: 1024 },
      toolChoice: { type: 'required' },
      tools: [{ type: 'function', name: 'bash', description: 'Run a command', inputSchema: anthropicBody.tools[0].input_schema }],
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'You are a coding agent.', providerOptions: { anthropic: { cache_control: { type: 'ephemeral' } } } }] },
        { role: 'user', content: [{ type: 'text', text: 'List files.' }] },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'I should call ls.', signature: 'sig-1' },
            { type: 'tool-call', toolCallId: 'toolu_1', toolName: 'bash', input: '{"command":"ls"}' },
          ],
        },
        {
          role: 'tool',
          content: [{ type: 'tool-result', toolCallId: 'toolu_1', content: [{ type: 'text', text: 'a.ts\nb.ts' }], providerOptions: { anthropic: { cache_control: { type: 'ephemeral' } } } }],
        },
        { role: 'user', content: [{ type: 'text', text: 'Now read a.ts' }] },
      ],
    });
    expect(r.warnings).toEqual([]);
  });

  it('writes the canonical request back as an equivalent Messages body (thinking, signatures, cache_control kept)', () => {
    const r = chatRequestFromAnthropic(anthropicBody);
    if ('invalid' in r) throw new Error(r.invalid.message);
    const { body, warnings } = anthropicMessagesRequestFromCanonical(r.value, { model: 'claude-sonnet-4-5', defaultMaxTokens: 1 });
    expect(warnings).toEqual([]);
    expect(body).toEqual({
      ...anthropicBody,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'List files.' }] },
        anthropicBody.messages[1],
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a.ts\nb.ts' }], cache_control: { type: 'ephemeral' } },
            { type: 'text', text: 'Now read a.ts' },
          ],
        },
      ],
    });
  });

  it('names the bad field the way Anthropic does', () => {
    expect(chatRequestFromAnthropic({ model: 'm', max_tokens: 1, messages: [{ role: 'system', content: 'x' }] })).toEqual({
      invalid: { param: 'messages.0.role', message: 'messages.0.role: must be user or assistant' },
    });
  });
});

/** Parts through the event writer, as the SSE text a client would read. */
function anthropicSse(parts: CanonicalStreamPart[]): string {
  const encoder = new AnthropicEventEncoder({ fallbackId: 'msg_gw_1', model: 'gw-claude' });
  return [...parts.flatMap((p) => encoder.push(p)), ...encoder.end()].map(formatSseEvent).join('');
}

function sdkReading(sse: string): Anthropic {
  return new Anthropic({ apiKey: 'gw-key', maxRetries: 0, fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }) });
}

const openAIStream = (chunks: object[], done = true): CanonicalStreamPart[] =>
  decodeInChunks(() => createOpenAIChatStreamDecoder(), utf8(chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + (done ? 'data: [DONE]\n\n' : '')), 9);

const c = (rest: object) => ({ id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1', ...rest });

describe('Anthropic event writer', () => {
  it('turns an OpenAI upstream stream into events the Anthropic SDK accumulates into the same message', async () => {
    const parts = openAIStream([
      c({ choices: [{ index: 0, delta: { role: 'assistant', content: 'Sure, ' }, finish_reason: null }] }),
      c({ choices: [{ index: 0, delta: { content: 'checking.' }, finish_reason: null }] }),
      c({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }] }, finish_reason: null }] }),
      c({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }, finish_reason: null }] }),
      c({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] }),
      c({ choices: [], usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 100 } } }),
    ]);
    const stream = sdkReading(anthropicSse(parts)).messages.stream({ model: 'gw-claude', max_tokens: 100, messages: [{ role: 'user', content: 'weather?' }] });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(final).toMatchObject({
      id: 'chatcmpl-9',
      model: 'gpt-4.1',
      stop_reason: 'tool_use',
      content: [
        { type: 'text', text: 'Sure, checking.' },
        { type: 'tool_use', id: 'call_9', name: 'get_weather', input: { city: 'Oslo' } },
      ],
      // Anthropic's input_tokens is the uncached part; the cached part goes beside it.
      usage: { input_tokens: 20, cache_read_input_tokens: 100, cache_creation_input_tokens: 0, output_tokens: 30 },
    });
  });

  it('writes reasoning as a thinking block with its signature', async () => {
    const final = await sdkReading(
      anthropicSse([
        { type: 'reasoning-delta', choice: 0, text: 'hmm' },
        { type: 'reasoning-signature', choice: 0, signature: 'sig-9' },
        { type: 'text-delta', choice: 0, text: '42' },
        { type: 'finish', choice: 0, reason: 'stop', rawReason: 'end_turn' },
      ]),
    )
      .messages.stream({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'q' }] })
      .finalMessage();
    expect(final.content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: 'sig-9' },
      { type: 'text', text: '42', citations: null },
    ]);
    expect(final.stop_reason).toBe('end_turn');
  });

  it('ends a failed stream with an error event the SDK raises, and without message_stop', async () => {
    const sse = anthropicSse([
      { type: 'text-delta', choice: 0, text: 'Once' },
      { type: 'error', error: { kind: 'overloaded', message: 'upstream overloaded', retryable: true } },
    ]);
    expect(sse).toContain('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"upstream overloaded"}}');
    expect(sse).not.toContain('message_stop');
    const err = await sdkReading(sse)
      .messages.stream({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'q' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(String((err as Error).message)).toContain('upstream overloaded');
  });

  it('writes error answers the SDK raises as the matching error class', async () => {
    const cases: Array<[number, Parameters<typeof anthropicErrorResponse>[0], string]> = [
      [529, { kind: 'overloaded', message: 'busy', retryable: true }, 'OverloadedError'],
      [429, { kind: 'rate_limited', message: 'slow', retryable: true }, 'RateLimitError'],
      [400, { kind: 'context_length', message: 'prompt is too long', retryable: false }, 'BadRequestError'],
    ];
    for (const [status, error, sdkClass] of cases) {
      const body = JSON.stringify(anthropicErrorResponse(error, 'req_gw_1'));
      const client = new Anthropic({ apiKey: 'k', maxRetries: 0, fetch: async () => new Response(body, { status, headers: { 'content-type': 'application/json' } }) });
      const err = await client.messages.create({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'q' }] }).catch((e: unknown) => e);
      expect([(err as Error).constructor.name, (err as Error).message]).toEqual([sdkClass, expect.stringContaining(error.message)]);
    }
  });

  it('writes a whole message the SDK types accept, mapping the finish reason back', () => {
    const message = anthropicMessageFromCanonical(
      {
        id: 'chatcmpl-1',
        model: 'gpt-4.1',
        choices: [{ index: 0, content: [{ type: 'text', text: 'cut' }], finishReason: 'length', rawFinishReason: 'length' }],
        usage: { input: { total: 10, noCache: 10, cacheRead: 0, cacheWrite: 0 }, output: { total: 5, text: 5, reasoning: 0 }, extra: {} },
      },
      { fallbackId: 'msg_x', model: 'gw' },
    );
    expect(message).toMatchObject({ id: 'chatcmpl-1', stop_reason: 'max_tokens', content: [{ type: 'text', text: 'cut', citations: null }], usage: { input_tokens: 10, output_tokens: 5 } });
  });
});
