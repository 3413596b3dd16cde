import { createAnthropicMessagesStreamDecoder, createOpenAIChatStreamDecoder, OpenAIChatChunkEncoder } from '#libs/adapter-sdk';
import { GatewayAttr } from '#libs/contracts';
import { SecretRedactor } from '#libs/secret-redaction';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { UpstreamExchange } from '../proxy/upstream-exchange.js';
import type { RouteTarget } from '../read-model/read-model.service.js';
import { anthropicResponseWriter } from './anthropic-response-writer.js';
import type { CallFailure } from './call-failure.js';
import { CallMetering } from './call-metering.js';
import { openAIResponseWriter } from './openai-response-writer.js';
import { relayStream, type StreamRelayInput } from './stream-relay.js';

const SECRET = 'sk-upstream-secret-0123456789';

/** A ServerResponse that keeps what was written. */
class FakeResponse extends EventEmitter {
  status = 0;
  headers: Record<string, unknown> = {};
  body = '';
  destroyed = false;
  writableFinished = false;
  writeHead(status: number, headers: Record<string, unknown>): this {
    this.status = status;
    this.headers = headers;
    return this;
  }
  flushHeaders(): void {}
  write(chunk: string | Buffer): boolean {
    this.body += chunk.toString();
    return true;
  }
  end(chunk?: string | Buffer): this {
    if (chunk !== undefined) this.body += chunk.toString();
    this.writableFinished = true;
    return this;
  }
}

/** An exchange whose stream is these chunks, or fails after them. */
function fakeExchange(chunks: string[], failWith?: Error): UpstreamExchange {
  return {
    streamTo: async (sink: (chunk: Buffer) => boolean) => {
      for (const c of chunks) sink(Buffer.from(c));
      if (failWith) throw failWith;
    },
    abort: () => undefined,
    resume: () => undefined,
    pause: () => undefined,
  } as unknown as UpstreamExchange;
}

const spanAttributes: Record<string, unknown> = {};
const span = { setAttribute: (k: string, v: unknown) => (spanAttributes[k] = v), setError: () => undefined, end: () => undefined };
const target = { redactor: SecretRedactor.forSecrets([SECRET]) } as unknown as RouteTarget;

function input(res: FakeResponse, exchange: UpstreamExchange, rest: Partial<StreamRelayInput> & Pick<StreamRelayInput, 'decoder' | 'mode' | 'writer'>): StreamRelayInput {
  return {
    res: res as unknown as ServerResponse,
    status: 200,
    headers: {},
    exchange,
    target,
    metering: new CallMetering(span as never),
    ctx: { requestId: 'req-1' },
    transportFailure: (): CallFailure => ({ kind: 'upstream_unreachable', message: 'The upstream provider could not be reached.', retryable: true }),
    ...rest,
  };
}

const openAIEvents = [
  'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n',
  'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n',
  'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n',
  'data: {"id":"c1","model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\n',
  'data: [DONE]\n\n',
];

describe('relayStream', () => {
  it('passes the upstream’s events through byte for byte, cut anywhere, dropping only what `drop` names', async () => {
    const res = new FakeResponse();
    const all = openAIEvents.join('');
    const chunks = [all.slice(0, 7), all.slice(7, 150), all.slice(150)];
    const failure = await relayStream(
      input(res, fakeExchange(chunks), {
        decoder: createOpenAIChatStreamDecoder({ meteringOnly: true }),
        writer: openAIResponseWriter,
        mode: { kind: 'pass-through', drop: (event, parts) => parts.length > 0 && parts.every((p) => p.type === 'usage') && event.latin1.includes('"choices":[]') },
      }),
    );
    expect(failure).toBeUndefined();
    expect(res.body).toBe(openAIEvents.filter((_, i) => i !== 3).join(''));
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  });

  it('ends a pass-through stream that stops before its terminator with an error event in the client’s format', async () => {
    const res = new FakeResponse();
    const failure = await relayStream(
      input(res, fakeExchange(openAIEvents.slice(0, 2)), { decoder: createOpenAIChatStreamDecoder({ meteringOnly: true }), writer: openAIResponseWriter, mode: { kind: 'pass-through' } }),
    );
    expect(failure).toMatchObject({ kind: 'upstream_error', message: expect.stringContaining('[DONE]') });
    expect(res.body.startsWith(openAIEvents[0]! + openAIEvents[1]!)).toBe(true);
    expect(JSON.parse(res.body.slice((openAIEvents[0]! + openAIEvents[1]!).length + 'data: '.length))).toMatchObject({ error: { code: 'upstream_error' } });
  });

  it('relays an OpenAI pass-through up to an upstream error event, then the error redacted in the client’s format, counting the content events passed', async () => {
    const res = new FakeResponse();
    const errorEvent = `data: {"error":{"message":"overloaded ${SECRET}","type":"server_error","code":null}}\n\n`;
    const metering = new CallMetering(span as never);
    const failure = await relayStream(
      input(res, fakeExchange([openAIEvents[0]! + openAIEvents[1]! + openAIEvents[1]! + errorEvent + openAIEvents[2]!]), {
        decoder: createOpenAIChatStreamDecoder({ meteringOnly: true }),
        writer: openAIResponseWriter,
        mode: { kind: 'pass-through' },
        metering,
      }),
    );
    expect(failure).toMatchObject({ kind: 'upstream_error', message: 'overloaded [redacted]' });
    expect(res.body.startsWith(openAIEvents[0]! + openAIEvents[1]! + openAIEvents[1]!)).toBe(true);
    expect(res.body).not.toContain(SECRET);
    expect(res.body).not.toContain('"stop"');
    metering.fail(failure!);
    metering.end();
    expect(spanAttributes[GatewayAttr.streamedContentEvents]).toBe(2);
  });

  it('never relays an upstream error event as it came: its message is redacted and written in the client’s format', async () => {
    const res = new FakeResponse();
    const events = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n',
      `event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded for ${SECRET}"}}\n\n`,
    ];
    const failure = await relayStream(
      input(res, fakeExchange(events), { decoder: createAnthropicMessagesStreamDecoder({ meteringOnly: true }), writer: anthropicResponseWriter, mode: { kind: 'pass-through' } }),
    );
    expect(failure).toMatchObject({ kind: 'overloaded' });
    expect(res.body).not.toContain(SECRET);
    expect(res.body).toBe(`${events[0]}event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded for [redacted]"}}\n\n`);
  });

  it('translates parts into the client’s format, and a broken upstream connection into an error event', async () => {
    const res = new FakeResponse();
    const encoder = new OpenAIChatChunkEncoder({ fallbackId: 'x', now: 1, model: 'gw', includeUsage: false });
    const events = [
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":5,"output_tokens":1}}}\n\n',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
      'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n',
    ];
    const failure = await relayStream(
      input(res, fakeExchange(events, new Error('socket hang up')), { decoder: createAnthropicMessagesStreamDecoder(), writer: openAIResponseWriter, mode: { kind: 'translate', encoder } }),
    );
    expect(failure).toMatchObject({ kind: 'upstream_unreachable' });
    const data = res.body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as Record<string, unknown>);
    expect(data[0]).toMatchObject({ id: 'msg_1', object: 'chat.completion.chunk', choices: [{ delta: { content: 'Hi' } }] });
    expect(data.at(-1)).toMatchObject({ error: { code: 'upstream_unreachable' } });
    expect(res.body).not.toContain('[DONE]');
  });
});
