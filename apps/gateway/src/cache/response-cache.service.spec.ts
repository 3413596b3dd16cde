import type { AppConfig } from '#libs/config';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Principal } from '../auth/principal.js';
import type { V1Request } from '../v1/v1-request.js';
import { ResponseCacheService } from './response-cache.service.js';

/**
 * The service against real HTTP responses: what a call writes is recorded as the client received
 * it and replayed on a hit; answers are never shared across organisations; failures, cut-short
 * answers and n > 1 asked only by the key's default are never kept.
 */
describe('ResponseCacheService', () => {
  let server: Server;
  let url: string;
  let service: ResponseCacheService;
  /** How the fake endpoint answers a miss. */
  let answerMiss: (res: ServerResponse) => Promise<boolean>;
  let upstreamCalls = 0;

  const principal = (organisationId: string, cacheTtlSeconds: number | null = null): Principal => ({ keyId: `key-${organisationId}`, name: 'client', role: 'client' as Principal['role'], organisationId, projectId: null, cacheTtlSeconds });

  beforeAll(async () => {
    service = new ResponseCacheService({ responseCacheMaxBytes: 1024 * 1024, responseCacheDefaultTtlSeconds: 60 } as AppConfig);
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        void (async () => {
          const body = JSON.parse(text) as Record<string, unknown>;
          const call = { req, res, principal: principal(String(req.headers['x-org']), req.headers['x-key-cache'] ? Number(req.headers['x-key-cache']) : null), body, requestId: 'r' } as V1Request;
          const options = service.options(call);
          if ('error' in options || !options.on) {
            res.writeHead(400).end();
            return;
          }
          const lookup = service.lookup(res, options, { organisationId: call.principal.organisationId, route: 'm', clientFormat: 'openai', endpoint: 'chat', body, stream: body.stream === true });
          if (lookup?.kind === 'hit') {
            service.replay(res, lookup.answer, { 'x-request-id': 'r' });
            return;
          }
          upstreamCalls++;
          const ok = await answerMiss(res);
          if (lookup) service.store(res, lookup.miss, ok, { model: 'upstream-model' });
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    upstreamCalls = 0;
    answerMiss = async (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answer: upstreamCalls }));
      return true;
    };
  });

  const call = (org: string, body: unknown, headers: Record<string, string> = { 'x-gateway-cache': 'on' }) =>
    fetch(url, { method: 'POST', headers: { 'x-org': org, ...headers }, body: JSON.stringify(body) });

  it('answers the same request of one organisation from the cache, and never another organisation’s', async () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'org test' }] };
    const first = await call('org-a', body);
    expect(first.headers.get('x-gateway-cache')).toBe('miss');
    expect(await first.json()).toEqual({ answer: 1 });
    const second = await call('org-a', body);
    expect(second.headers.get('x-gateway-cache')).toBe('hit');
    expect(second.headers.get('content-type')).toBe('application/json');
    expect(await second.json()).toEqual({ answer: 1 });
    const other = await call('org-b', body);
    expect(other.headers.get('x-gateway-cache')).toBe('miss');
    expect(await other.json()).toEqual({ answer: 2 });
    expect(upstreamCalls).toBe(2);
  });

  it('replays a stream’s bytes with their framing, written in many pieces', async () => {
    const events = ['data: {"a":1}\n\n', 'data: {"a":2}\n\n', 'data: [DONE]\n\n'];
    answerMiss = async (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      for (const e of events.slice(0, -1)) res.write(Buffer.from(e));
      res.end(events.at(-1));
      return true;
    };
    const body = { model: 'm', stream: true, messages: [] };
    expect(await (await call('org-a', body)).text()).toBe(events.join(''));
    const hit = await call('org-a', body);
    expect(hit.headers.get('x-gateway-cache')).toBe('hit');
    expect(hit.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await hit.text()).toBe(events.join(''));
    expect(upstreamCalls).toBe(1);
  });

  it('never keeps a failure, a failed stream, or n > 1 unless the request itself asked', async () => {
    answerMiss = async (res) => {
      res.writeHead(500).end('{}');
      return false;
    };
    await call('org-a', { model: 'm', fails: 1 });
    await call('org-a', { model: 'm', fails: 1 });
    answerMiss = async (res) => {
      res.writeHead(200).end('data: {"partial":true}\n\n');
      return false; // the upstream broke mid-stream: metering says the call failed
    };
    await call('org-a', { model: 'm', fails: 2 });
    await call('org-a', { model: 'm', fails: 2 });
    expect(upstreamCalls).toBe(4);
    answerMiss = async (res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return true;
    };

    const keyOnly = { 'x-key-cache': '60' };
    await call('org-a', { model: 'm', n: 2 }, keyOnly);
    const again = await call('org-a', { model: 'm', n: 2 }, keyOnly);
    expect(again.headers.get('x-gateway-cache')).toBeNull();
    expect(upstreamCalls).toBe(6);
    await call('org-a', { model: 'm', n: 2 });
    expect((await call('org-a', { model: 'm', n: 2 })).headers.get('x-gateway-cache')).toBe('hit');
    // A key's default caches a plain request too.
    await call('org-a', { model: 'm', plain: 1 }, keyOnly);
    expect((await call('org-a', { model: 'm', plain: 1 }, keyOnly)).headers.get('x-gateway-cache')).toBe('hit');
  });
});
