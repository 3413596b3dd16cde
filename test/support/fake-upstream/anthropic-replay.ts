import type { FakeAnthropicBehaviour } from './anthropic-behaviour.js';

/**
 * Replays a golden answer byte for byte (test/fixtures/anthropic): a stream transcript with the
 * API's `event:` lines, or a JSON body with its status. For fixtures the generated answers cannot
 * express, and to check a fixture against the official client through the same server.
 */

export function replayAnthropicStream(events: readonly { type: string }[], headers?: Record<string, string>): FakeAnthropicBehaviour {
  return {
    kind: 'raw',
    status: 200,
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers },
    body: events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''),
  };
}

export function replayAnthropicJson(body: unknown, status = 200, headers?: Record<string, string>): FakeAnthropicBehaviour {
  return { kind: 'raw', status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
