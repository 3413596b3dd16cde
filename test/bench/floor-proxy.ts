import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { stopWhenToldOrOrphaned } from './child-lifetime.js';

/**
 * The benchmark's floor: the thinnest Node proxy that still does the work every gateway must do.
 * node:http server, reads the whole body, JSON.parse, replaces the model, JSON.stringify, forwards
 * through an undici Pool (keep-alive, no pipelining) and streams the answer back chunk by chunk.
 * No auth, no routing table, no telemetry: what the gateway costs above this is its own.
 * The same work for every endpoint it serves: POST /v1/chat/completions (model --model) and
 * POST /v1/embeddings (model --embedding-model), each forwarded to the same path under the upstream's
 * base URL; anything else answers 404.
 *
 *   node dist/test/bench/floor-proxy.js --upstream http://127.0.0.1:9100/v1 [--slow-upstream URL]
 *        --model gpt-4o-mini-2024-07-18 [--embedding-model text-embedding-3-small] [--api-key KEY] [--port 0]
 * Requests under /slow/ go to the slow upstream. Prints its URL as the first line on stdout;
 * exits on SIGTERM, SIGINT, or when its stdin closes (the benchmark died).
 */

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    upstream: { type: 'string' },
    'slow-upstream': { type: 'string' },
    model: { type: 'string' },
    'embedding-model': { type: 'string', default: 'text-embedding-3-small' },
    'api-key': { type: 'string', default: 'sk-floor' },
  },
  strict: true,
});
if (!values.upstream || !values.model) {
  process.stderr.write('usage: floor-proxy.js --upstream URL --model NAME [--embedding-model NAME] [--slow-upstream URL] [--api-key KEY] [--port N]\n');
  process.exit(64);
}

interface Upstream {
  pool: Pool;
  /** The base URL's path, without a trailing slash (e.g. /v1). */
  basePath: string;
}

function upstream(base: string): Upstream {
  const url = new URL(base);
  const pool = new Pool(url.origin, { connections: 2048, pipelining: 1, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  return { pool, basePath: url.pathname.replace(/\/$/, '') };
}

const fast = upstream(values.upstream);
const slow = values['slow-upstream'] ? upstream(values['slow-upstream']) : fast;
/** The endpoints served, below /v1, and the upstream model each one's requests are given. */
const MODEL_OF: ReadonlyMap<string, string> = new Map([
  ['/chat/completions', values.model],
  ['/embeddings', values['embedding-model']],
]);
const upstreamHeaders = { 'content-type': 'application/json', authorization: `Bearer ${values['api-key']}` };

async function forward(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
  const url = req.url!;
  const target = url.startsWith('/slow/') ? slow : fast;
  const v1 = url.startsWith('/slow/') ? url.slice('/slow'.length) : url;
  const endpoint = v1.startsWith('/v1/') ? v1.slice('/v1'.length) : '';
  const model = req.method === 'POST' ? MODEL_OF.get(endpoint) : undefined;
  if (model === undefined) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"unknown endpoint"}}');
    return;
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON"}}');
    return;
  }
  body.model = model;
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const answer = await target.pool.request({ path: `${target.basePath}${endpoint}`, method: 'POST', headers: upstreamHeaders, body: JSON.stringify(body), signal: abort.signal });
  const headers: http.OutgoingHttpHeaders = { 'content-type': String(answer.headers['content-type'] ?? 'application/json') };
  const length = answer.headers['content-length'];
  if (typeof length === 'string') headers['content-length'] = length;
  res.writeHead(answer.statusCode, headers);
  for await (const chunk of answer.body) {
    if (!res.write(chunk as Buffer)) await once(res, 'drain');
  }
  res.end();
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    forward(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":{"message":"upstream failed"}}');
      else res.destroy();
    });
  });
});
// Rounds of other paths leave the floor idle for several seconds: keep the client's connections.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.maxRequestsPerSocket = 0;

server.listen(Number(values.port), '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});

stopWhenToldOrOrphaned(() => {
  server.closeAllConnections();
  server.close();
  void Promise.allSettled([...new Set([fast.pool, slow.pool])].map((p) => p.close())).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
