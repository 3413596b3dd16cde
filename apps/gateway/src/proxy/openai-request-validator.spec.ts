import { Ajv2020 } from 'ajv/dist/2020.js';
import OpenAI from 'openai';
import { openAIRequestSchemas } from './openai-request-schemas.generated.js';
import { OpenAIRequestValidator, withDiscriminators } from './openai-request-validator.js';

const validator = new OpenAIRequestValidator();
const chat = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], ...extra });

/** The bodies the official openai client sends for these calls, captured at its fetch. */
async function sentBy(call: (client: OpenAI) => Promise<unknown>): Promise<unknown> {
  let body: unknown;
  const client = new OpenAI({
    apiKey: 'sk-test',
    baseURL: 'http://127.0.0.1:9/v1',
    maxRetries: 0,
    fetch: async (_url: unknown, init?: { body?: unknown }) => {
      body = JSON.parse(String(init?.body));
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    },
  });
  await call(client).catch(() => undefined);
  return body;
}

describe('OpenAIRequestValidator', () => {
  it('accepts chat bodies the official openai client sends, from minimal to every common feature', async () => {
    const bodies = [
      await sentBy((c) => c.chat.completions.create({ model: 'my-model', messages: [{ role: 'user', content: 'hi' }] })),
      await sentBy((c) =>
        c.chat.completions.create({
          model: 'gpt-4o',
          messages: [
            { role: 'developer', content: 'Be brief.' },
            { role: 'system', content: [{ type: 'text', text: 'System text' }] },
            {
              role: 'user',
              name: 'ann',
              content: [
                { type: 'text', text: 'What is in this image? [{,"' },
                { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(10_000)}`, detail: 'low' } },
                { type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } },
              ],
            },
            { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] },
            { role: 'tool', tool_call_id: 'call_1', content: '{"answer":42}' },
            { role: 'assistant', content: 'Done.' },
          ],
          tools: [{ type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] }, strict: true } }],
          tool_choice: 'auto',
          response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object', properties: { a: { type: 'number' } } }, strict: true } },
          temperature: 0,
          top_p: 1,
          n: 2,
          max_completion_tokens: 1000,
          max_tokens: 500,
          presence_penalty: -2,
          frequency_penalty: 2,
          seed: 42,
          stop: ['\n\n', 'END'],
          logit_bias: { '50256': -100 },
          logprobs: true,
          top_logprobs: 5,
          metadata: { team: 'search' },
          user: 'user-1',
          reasoning_effort: 'low',
          parallel_tool_calls: false,
          service_tier: 'auto',
        }),
      ),
      await sentBy((c) => c.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } })),
      chat({ temperature: null, max_tokens: null, stream: null, stop: null }),
    ];
    for (const body of bodies) expect(validator.chatCompletion(body)).toBeUndefined();
  });

  it('accepts completion and embedding bodies the client sends, long token arrays and 2,048 inputs included', async () => {
    const tokens = Array.from({ length: 150_000 }, (_, i) => i % 50_000);
    expect(validator.completion(await sentBy((c) => c.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 7, temperature: 0 })))).toBeUndefined();
    expect(validator.completion(await sentBy((c) => c.completions.create({ model: 'm', prompt: tokens, echo: true, max_tokens: 0 })))).toBeUndefined();
    expect(validator.embedding(await sentBy((c) => c.embeddings.create({ model: 'text-embedding-3-small', input: 'hello', dimensions: 256 })))).toBeUndefined();
    expect(validator.embedding(await sentBy((c) => c.embeddings.create({ model: 'm', input: Array(2048).fill('a text') })))).toBeUndefined();
    expect(validator.embedding(await sentBy((c) => c.embeddings.create({ model: 'm', input: [[1, 2, 3], [4, 5]] })))).toBeUndefined();
  });

  it.each([
    ['temperature 1e309 (read as Infinity)', chat({ temperature: JSON.parse('1e309') }), 'temperature', /finite number/],
    ['temperature above 2', chat({ temperature: 2.5 }), 'temperature', /above the maximum/],
    ['negative max_tokens', chat({ max_tokens: -1 }), 'max_tokens', /below the minimum/],
    ['zero max_tokens', chat({ max_tokens: 0 }), 'max_tokens', /below the minimum/],
    ['non-integer max_tokens', chat({ max_tokens: 1.5 }), 'max_tokens', /expected one of integer, null/],
    ['negative max_completion_tokens', chat({ max_completion_tokens: -5 }), 'max_completion_tokens', /below the minimum/],
    ['max_completion_tokens 1e309', chat({ max_completion_tokens: JSON.parse('1e309') }), 'max_completion_tokens', /finite number/],
    ['n of 0', chat({ n: 0 }), 'n', /below the minimum/],
    ['an unknown role', chat({ messages: [{ role: 'wizard', content: 'hi' }] }), 'messages[0].role', /"wizard" is not one of the supported values: "developer", "system", "user", "assistant", "tool", "function"/],
    ['a missing role', chat({ messages: [{ content: 'hi' }] }), 'messages[0].role', /Missing required parameter/],
    ['content as a number', chat({ messages: [{ role: 'user', content: 'ok' }, { role: 'user', content: 5 }] }), 'messages[1].content', /expected one of string, array, but got a number/],
    ['a text part without text', chat({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }), 'messages[0].content[0].text', /Missing required parameter/],
    ['an image url as a number', chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 5 } }] }] }), 'messages[0].content[0].image_url.url', /expected a string/],
    ['an unknown content part type', chat({ messages: [{ role: 'user', content: [{ type: 'video', video: {} }] }] }), 'messages[0].content[0].type', /"video" is not one of/],
    ['a tool message without tool_call_id', chat({ messages: [{ role: 'tool', content: 'x' }] }), 'messages[0].tool_call_id', /Missing required parameter/],
    ['empty messages', chat({ messages: [] }), 'messages', /at least 1 item/],
    ['messages not an array', chat({ messages: 'hi' }), 'messages', /expected an array/],
    ['no model', { messages: [{ role: 'user', content: 'hi' }] }, 'model', /Missing required parameter/],
    ['an empty model', chat({ model: '' }), 'model', /at least 1 character/],
    ['stream as a string', chat({ stream: 'yes' }), 'stream', /expected one of boolean, null/],
    ['a stop list of numbers', chat({ stop: [1] }), 'stop[0]', /expected a string/],
    ['a tool name as a number', chat({ tools: [{ type: 'function', function: { name: 5 } }] }), 'tools[0].function.name', /expected a string/],
    ['a body that is an array', [], 'body', /expected an object/],
  ])('refuses %s, naming the field', (_name, body, param, message) => {
    const invalid = validator.chatCompletion(body);
    expect(invalid?.param).toBe(param);
    expect(invalid?.message).toMatch(message);
  });

  it('refuses bad completion and embedding bodies, naming the field', () => {
    expect(validator.completion({ model: 'm', prompt: 'x', max_tokens: -3 })).toMatchObject({ param: 'max_tokens' });
    expect(validator.completion({ model: 'm', prompt: [1, 'a', 2] })).toMatchObject({ param: 'prompt[1]' });
    expect(validator.embedding({ model: 'm', input: Array(2049).fill('a') })).toMatchObject({ param: 'input' });
    expect(validator.embedding({ model: 'm', input: 'x', dimensions: 0 })).toMatchObject({ param: 'dimensions' });
    expect(validator.embedding({ model: 'm', input: 'x', colour: 'red' })).toMatchObject({ param: 'colour', message: expect.stringContaining('Unrecognized request argument') });
  });

  it('accepts and refuses the same bodies with and without the discriminators it adds for speed', () => {
    const options = { strict: false, strictNumbers: true, discriminator: true, validateFormats: false, logger: false as const };
    const schema = openAIRequestSchemas.schemas.CreateChatCompletionRequest;
    const asPublished = new Ajv2020(options).compile(schema);
    const withTags = new Ajv2020(options).compile(withDiscriminators(schema) as object);
    expect(JSON.stringify(withDiscriminators(schema))).toContain('"discriminator":{"propertyName":"role"}');
    const messages = [
      { role: 'user', content: 'hi' },
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
      { role: 'user', content: [{ type: 'video' }] },
      { role: 'assistant', content: null, tool_calls: [{ id: '1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'assistant' },
      { role: 'tool', content: 'x' },
      { role: 'tool', content: 'x', tool_call_id: '1' },
      { role: 'function', content: null, name: 'f' },
      { role: 'wizard', content: 'x' },
      { content: 'x' },
      { role: 'system', content: 5 },
      { role: 'developer', content: [{ type: 'image_url', image_url: { url: 'x:y' } }] },
    ];
    for (const message of messages) {
      const body = chat({ messages: [message] });
      expect([message, withTags(body)]).toEqual([message, asPublished(body)]);
    }
  });
});
