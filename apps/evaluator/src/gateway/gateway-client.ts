import { Injectable } from '@nestjs/common';
import { request } from 'undici';
import type { GatewayCredentials } from './gateway-identity.js';

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  maxTokens?: number;
  temperature?: number;
}

export interface CompletionResult {
  ok: boolean;
  output: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  error: string | null;
}

/**
 * The evaluator calls models the way any client does: the gateway's OpenAI-compatible /v1 API over
 * HTTP, so its calls are routed, limited and metered like everyone else's.
 */
@Injectable()
export class GatewayClient {
  async chat(gateway: GatewayCredentials, run: ChatRequest, timeoutMs: number, traceparent?: string): Promise<CompletionResult> {
    const body = JSON.stringify({
      model: run.model,
      messages: run.messages,
      ...(run.maxTokens ? { max_tokens: run.maxTokens } : {}),
      ...(run.temperature !== undefined ? { temperature: run.temperature } : {}),
    });
    const res = await request(`${gateway.url.replace(/\/+$/, '')}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gateway.token}`, ...(traceparent ? { traceparent } : {}) },
      body,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const answer = (await res.body.json().catch(() => null)) as {
      choices?: { message?: { content?: unknown } }[];
      usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
      error?: { message?: unknown };
    } | null;
    if (res.statusCode >= 400 || !answer) {
      const message = typeof answer?.error?.message === 'string' ? answer.error.message : `the gateway answered HTTP ${res.statusCode}`;
      return { ok: false, output: null, inputTokens: null, outputTokens: null, error: `${res.statusCode}: ${message}` };
    }
    const content = answer.choices?.[0]?.message?.content;
    const n = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);
    return {
      ok: true,
      output: typeof content === 'string' ? content : null,
      inputTokens: n(answer.usage?.prompt_tokens),
      outputTokens: n(answer.usage?.completion_tokens),
      error: null,
    };
  }
}
