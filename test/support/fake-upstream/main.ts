import { parseArgs } from 'node:util';
import { startFakeAnthropic } from './fake-anthropic.js';
import { startFakeOpenAI } from './fake-openai.js';

/**
 * The fake OpenAI upstream as its own process, for the benchmark and for trying the gateway by hand:
 *   node dist/test/support/fake-upstream/main.js --port 9100 [--host 127.0.0.1] [--stream-chunks 20]
 *        [--chunk-delay-ms 0] [--api-key sk-…] [--record] [--anthropic]
 * Prints its base URL (ending in /v1) as the first line on stdout; stops on SIGTERM or SIGINT.
 * With --anthropic it speaks Anthropic's Messages API instead, and its base URL has no /v1 (the
 * Anthropic clients append it).
 */

const USAGE = 'usage: main.js [--port N] [--host H] [--stream-chunks N] [--chunk-delay-ms N] [--api-key KEY] [--record] [--anthropic]';

function nonNegativeInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    process.stderr.write(`--${name} must be a non-negative integer (got ${JSON.stringify(value)})\n${USAGE}\n`);
    process.exit(64); // EX_USAGE
  }
  return Number(value);
}

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'stream-chunks': { type: 'string' },
      'chunk-delay-ms': { type: 'string' },
      'api-key': { type: 'string' },
      record: { type: 'boolean', default: false },
      anthropic: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
}
try {
  parsed = parseOptions();
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
  process.exit(64);
}
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const chunks = nonNegativeInt('stream-chunks', parsed['stream-chunks']);
const chunkDelayMs = nonNegativeInt('chunk-delay-ms', parsed['chunk-delay-ms']);
const common = {
  port: nonNegativeInt('port', parsed.port),
  host: parsed.host,
  apiKey: parsed['api-key'],
  // A benchmark runs millions of requests: keep none unless asked.
  record: parsed.record,
};
const fake = parsed.anthropic
  ? await startFakeAnthropic({
      ...common,
      defaultBehaviour: {
        kind: 'message',
        chunkDelayMs,
        blocks: chunks === undefined ? undefined : [{ type: 'text', deltas: Array.from({ length: Math.max(1, chunks) }, (_, i) => `chunk${i + 1} `) }],
      },
    })
  : await startFakeOpenAI({ ...common, defaultBehaviour: { kind: 'completion', chunks, chunkDelayMs } });
process.stdout.write(`${fake.url}\n`);

const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
