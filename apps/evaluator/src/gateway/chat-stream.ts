import { request } from 'undici';
import type { GatewayCredentials } from './gateway-identity.js';

export interface StreamedChat {
  ok: boolean;
  output: string | null;
  toolCalls: unknown[] | null;
  inputTokens: number | null;
  outputTokens: number | null;
  error: string | null;
  /** From the request to the first content or tool-call piece. */
  ttftMs: number | null;
}

interface ToolCallDelta {
  index?: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

/**
 * Calls the gateway's /v1/chat/completions with `stream: true` and reads its SSE answer piece by
 * piece, handing each text piece to `onText`. A stream that ends in an OpenAI error chunk (the
 * gateway's way to say an upstream failed mid-answer) or without [DONE] is a failure that keeps the
 * text seen so far.
 */
export async function streamChat(
  gateway: GatewayCredentials,
  body: Record<string, unknown>,
  options: { timeoutMs: number; traceparent: string; onText: (text: string) => void },
): Promise<StreamedChat> {
  const started = Date.now();
  const res = await request(`${gateway.url.replace(/\/+$/, '')}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.token}`, traceparent: options.traceparent, accept: 'text/event-stream' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const failed = (error: string, output: string | null = null): StreamedChat => ({ ok: false, output, toolCalls: null, inputTokens: null, outputTokens: null, error, ttftMs: null });
  if (res.statusCode >= 400) {
    const answer = (await res.body.json().catch(() => null)) as { error?: { message?: unknown } } | null;
    const message = typeof answer?.error?.message === 'string' ? answer.error.message : `the gateway answered HTTP ${res.statusCode}`;
    return failed(`${res.statusCode}: ${message}`);
  }
  let text = '';
  let ttftMs: number | null = null;
  let inputTokens: number | null = null;
  let outputTokens: number | null = null;
  let error: string | null = null;
  let done = false;
  const tools = new Map<number, { id?: string; type: string; function: { name: string; arguments: string } }>();
  let buffer = '';
  const handle = (data: string) => {
    if (data === '[DONE]') {
      done = true;
      return;
    }
    let chunk: {
      error?: { message?: string };
      choices?: { delta?: { content?: unknown; tool_calls?: ToolCallDelta[] } }[];
      usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } | null;
    };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      error = 'the stream carried a piece that is not JSON';
      return;
    }
    if (chunk.error) {
      error = `the stream ended with an error: ${chunk.error.message ?? 'unknown'}`;
      return;
    }
    const delta = chunk.choices?.[0]?.delta;
    if (typeof delta?.content === 'string' && delta.content !== '') {
      ttftMs ??= Date.now() - started;
      text += delta.content;
      options.onText(delta.content);
    }
    for (const t of delta?.tool_calls ?? []) {
      ttftMs ??= Date.now() - started;
      const at = t.index ?? 0;
      const call = tools.get(at) ?? { type: 'function', function: { name: '', arguments: '' } };
      if (t.id) call.id = t.id;
      if (t.function?.name) call.function.name += t.function.name;
      if (t.function?.arguments) call.function.arguments += t.function.arguments;
      tools.set(at, call);
    }
    if (chunk.usage) {
      if (typeof chunk.usage.prompt_tokens === 'number') inputTokens = chunk.usage.prompt_tokens;
      if (typeof chunk.usage.completion_tokens === 'number') outputTokens = chunk.usage.completion_tokens;
    }
  };
  try {
    for await (const piece of res.body) {
      buffer += (piece as Buffer).toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, '');
        buffer = buffer.slice(newline + 1);
        if (line.startsWith('data:')) handle(line.slice(5).trim());
      }
    }
  } catch (err) {
    error ??= `the stream broke: ${(err as Error).message}`;
  }
  if (!error && !done) error = 'the stream ended before [DONE]';
  const toolCalls = tools.size > 0 ? [...tools.entries()].sort(([a], [b]) => a - b).map(([, c]) => c) : null;
  return { ok: error === null, output: text === '' && toolCalls ? null : text, toolCalls, inputTokens, outputTokens, error, ttftMs };
}
