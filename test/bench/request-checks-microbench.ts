/**
 * Cost per call of the checks every /v1 request body goes through before an upstream is paid:
 * the JSON bounds scan (on the bytes) and the OpenAI schema validation (on the parsed body), on a
 * typical small chat body. Run: npm run build && npx node dist/test/bench/request-checks-microbench.js
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { findJsonLimitViolation } from '#libs/json-limits';
import { ClientConcurrency } from '../../apps/gateway/src/edge/client-concurrency.js';
import { OpenAIRequestValidator } from '../../apps/gateway/src/proxy/openai-request-validator.js';

const body = Buffer.from(
  JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: 'You are a helpful assistant. Answer briefly, in one sentence.' },
      { role: 'user', content: 'What is the capital of France, and what river runs through it?' },
    ],
    temperature: 0.7,
    max_tokens: 256,
    stream: false,
  }),
);
const limits = { maxDepth: 128, maxArrayItems: 500_000, maxObjectKeys: 10_000 };
const validator = new OpenAIRequestValidator();
const parsed: unknown = JSON.parse(body.toString('utf8'));

function measure(name: string, fn: () => unknown): void {
  for (let i = 0; i < 200_000; i++) fn(); // warm up: let the JIT optimise
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const n = 500_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - start) / 1000 / n);
  }
  rounds.sort((a, b) => a - b);
  console.log(`${name}: median ${rounds[2]!.toFixed(3)} us/call (min ${rounds[0]!.toFixed(3)}, max ${rounds[4]!.toFixed(3)})`);
}

console.log(`typical chat body: ${body.length} bytes`);
if (findJsonLimitViolation(body, limits) !== undefined || validator.chatCompletion(parsed) !== undefined) throw new Error('the typical body must pass');
measure('JSON bounds (cheap byte counts)', () => findJsonLimitViolation(body, limits));
measure('schema validation (CreateChatCompletionRequest)', () => validator.chatCompletion(parsed));
measure('JSON.parse, for scale', () => JSON.parse(body.toString('utf8')));

// A longer conversation (past the length at which the bounds need the exact scan).
const turns = Array.from({ length: 20 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `Turn ${i}: ${'Some prose, with commas, [brackets] and "quotes". '.repeat(40)}` }));
const long = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: turns, temperature: 0.2 }));
const longParsed: unknown = JSON.parse(long.toString('utf8'));
console.log(`long conversation body: ${long.length} bytes`);
measure('JSON bounds (exact scan)', () => findJsonLimitViolation(long, limits));
measure('schema validation, 20 messages', () => validator.chatCompletion(longParsed));
measure('JSON.parse, for scale', () => JSON.parse(long.toString('utf8')));

// Counting a request in and out of the per-client bounds.
const concurrency = new ClientConcurrency(16, 4096);
const req = { socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
measure('per-client in-flight bound (admit + release)', () => {
  const res = new EventEmitter() as unknown as ServerResponse;
  concurrency.admit(req, res);
  res.emit('close');
});
