import { embeddingMeteringFromOpenAI, embeddingResponseFromOpenAI } from './openai-embeddings.js';

const vector = Array.from({ length: 16 }, (_, i) => Math.sin(i) / 7);
const base64 = Buffer.from(new Float32Array(vector).buffer).toString('base64');

/** What metering reads of an embedding list (generation-call.ts): model and usage. */
function whole(text: string) {
  const d = embeddingResponseFromOpenAI(Buffer.from(text));
  if ('error' in d) throw new Error(d.error.message);
  return { model: d.value.model, usage: d.value.usage };
}

describe('embeddingMeteringFromOpenAI', () => {
  const read: Array<[string, string]> = [
    ['an OpenAI base64 answer', JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: base64 }], model: 'text-embedding-3-small', usage: { prompt_tokens: 62, total_tokens: 62 } })],
    ['an OpenAI float answer', JSON.stringify({ object: 'list', data: [{ object: 'embedding', index: 0, embedding: vector }], model: 'text-embedding-3-small', usage: { prompt_tokens: 62, total_tokens: 62 } })],
    [
      'several vectors, fields in another order, whitespace everywhere',
      JSON.stringify({ usage: { total_tokens: 9, prompt_tokens: 9 }, model: 'emb-ü', data: [{ embedding: base64, index: 1 }, { index: 0, embedding: [1, 2e-3, -3], object: 'embedding' }, { embedding: [] }] }, null, 2),
    ],
    ['markers inside strings', JSON.stringify({ model: 'x "embedding":"y" "usage":{"prompt_tokens":1}', data: [{ note: '"embedding":[1]', embedding: 'AAAA' }], usage: { prompt_tokens: 7 } })],
    ['an escaped model', JSON.stringify({ model: 'e\\m"b\u00e9', data: [], usage: { prompt_tokens: 3 } })],
    ['no usage, a null model', JSON.stringify({ model: null, data: [{ embedding: 'AAAA' }] })],
    ['a usage without prompt_tokens, or with a string', '{"data":[],"usage":{"total_tokens":4},"usage":{"prompt_tokens":"4"}}'],
    ['a usage that is not an object', JSON.stringify({ data: [], model: 'm', usage: [1] })],
  ];
  it.each(read)('reads %s as the whole parse does', (_name, text) => {
    const skimmed = embeddingMeteringFromOpenAI(Buffer.from(text));
    expect(skimmed).toBeDefined();
    expect(skimmed!.embeddings).toEqual([]);
    expect({ model: skimmed!.model, usage: skimmed!.usage }).toEqual(whole(text));
  });

  it('reads model and usage beside data entries that are not objects, as the metering-only reading did (it reads no entry)', () => {
    const body = Buffer.from(JSON.stringify({ data: [1, 'x', null, [2]], model: 'm', usage: { prompt_tokens: 1 } }));
    expect(embeddingMeteringFromOpenAI(body)).toEqual({ embeddings: [], model: 'm', usage: expect.objectContaining({ input: expect.objectContaining({ total: 1 }) }) });
  });

  const unsure: Array<[string, string]> = [
    ['a base64 string with an escape', JSON.stringify({ data: [{ embedding: 'a"}],"model":"wrong' }], model: 'emb-3', usage: { prompt_tokens: 7 } })],
    ['nested arrays where a vector goes', JSON.stringify({ data: [{ embedding: [[1], [2]] }], model: 'm', usage: { prompt_tokens: 7 } })],
    ['a key written with an escape', '{"d\\u0061ta":[],"data":[],"model":"m"}'],
    ['a repeated data key', '{"data":[],"data":{}}'],
    ['no data', JSON.stringify({ model: 'm', usage: { prompt_tokens: 1 } })],
    ['data that is not an array', JSON.stringify({ data: {}, model: 'm' })],
    ['a truncated answer', `{"data":[{"embedding":"${base64}`],
    ['a truncated float answer', '{"data":[{"embedding":[1,2'],
    ['text after the answer', `${JSON.stringify({ data: [], model: 'm' })} x`],
    ['not JSON', '<html>bad gateway</html>'],
  ];
  it.each(unsure)('leaves %s to the reading it had before, which decides as before', (_name, text) => {
    expect(embeddingMeteringFromOpenAI(Buffer.from(text))).toBeUndefined();
  });

  it('still refuses what is not an embedding list', () => {
    expect(embeddingResponseFromOpenAI(Buffer.from('{"data":{}}'), { meteringOnly: true })).toHaveProperty('error');
    expect(embeddingResponseFromOpenAI(Buffer.from(`{"data":[{"embedding":"${base64}`), { meteringOnly: true })).toHaveProperty('error');
    expect(embeddingResponseFromOpenAI(Buffer.from('{"data":[],"model":"m",}'), { meteringOnly: true })).toHaveProperty('error');
  });
});
