import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { LeanHttpClient, type LeanRequest, type ResponseHandler } from './lean-http-client.js';

interface Heard {
  status: number;
  body: string;
  chunks: number;
  error?: string;
}

function call(client: LeanHttpClient, req: LeanRequest): Promise<Heard> {
  return new Promise((resolve) => {
    const heard: Heard = { status: 0, body: '', chunks: 0 };
    const handler: ResponseHandler = {
      onStart: (status) => (heard.status = status),
      onData: (chunk) => {
        heard.chunks++;
        heard.body += chunk.toString('utf8');
      },
      onEnd: () => resolve(heard),
      onError: (err) => resolve({ ...heard, error: err.message }),
    };
    client.request(req, handler);
  });
}

const request = (path: string, body = '{"q":"é"}'): LeanRequest => ({ path, headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: Buffer.from(body) });

describe('LeanHttpClient (the bench load generator)', () => {
  let server: http.Server;
  let origin: string;
  const sockets = new Set<net.Socket>();
  const seen: { method?: string; url?: string; host?: string; header?: string; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, host: req.headers.host, header: req.headers['x-test'] as string, body });
        if (req.url === '/length') res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }).end(body);
        else if (req.url === '/chunked') {
          res.writeHead(201, { 'content-type': 'text/event-stream' });
          res.write('data: one\n\n');
          setTimeout(() => {
            res.write('data: two\n\n');
            res.end('data: [DONE]\n\n');
          }, 20);
        } else if (req.url === '/close') {
          res.writeHead(200, { connection: 'close', 'content-type': 'text/plain' });
          res.end('bye');
        } else if (req.url === '/empty') res.writeHead(204).end();
        else res.writeHead(404, { 'content-length': '0' }).end();
      });
    });
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => (seen.length = 0));

  it('sends the request as written and reads a Content-Length answer', async () => {
    const client = new LeanHttpClient(origin, 1);
    expect(await call(client, request('/length'))).toEqual({ status: 200, body: '{"q":"é"}', chunks: 1 });
    expect(seen).toEqual([{ method: 'POST', url: '/length', host: new URL(origin).host, header: 'yes', body: '{"q":"é"}' }]);
    await client.close();
  });

  it('reads a chunked answer piece by piece, as the pieces arrive', async () => {
    const client = new LeanHttpClient(origin, 1);
    const heard = await call(client, request('/chunked'));
    expect(heard).toEqual({ status: 201, body: 'data: one\n\ndata: two\n\ndata: [DONE]\n\n', chunks: expect.any(Number) });
    expect(heard.chunks).toBeGreaterThanOrEqual(2); // the first event came on its own, 20 ms before the rest
    await client.close();
  });

  it('reuses a keep-alive connection, and opens a new one after the server closes it', async () => {
    const client = new LeanHttpClient(origin, 1);
    await call(client, request('/length'));
    await call(client, request('/length'));
    expect(sockets.size).toBe(1);
    expect(await call(client, request('/close'))).toEqual({ status: 200, body: 'bye', chunks: 1 });
    expect(await call(client, request('/length'))).toMatchObject({ status: 200, body: '{"q":"é"}' });
    await client.close();
  });

  it('answers a bodiless status and queues requests beyond its connections', async () => {
    const client = new LeanHttpClient(origin, 2);
    const answers = await Promise.all([call(client, request('/empty')), ...Array.from({ length: 6 }, () => call(client, request('/length')))]);
    expect(answers[0]).toEqual({ status: 204, body: '', chunks: 0 });
    expect(answers.slice(1).every((a) => a.status === 200 && a.body === '{"q":"é"}')).toBe(true);
    expect(seen).toHaveLength(7);
    await client.close();
  });

  it('fails a request whose answer is not HTTP, or is cut short', async () => {
    const liar = net.createServer((s) => {
      s.once('data', () => {
        s.end(toggle++ % 2 === 0 ? 'SMTP ready\r\n\r\n' : 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort');
      });
    });
    let toggle = 0;
    await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
    const client = new LeanHttpClient(`http://127.0.0.1:${(liar.address() as AddressInfo).port}`, 1);
    expect((await call(client, request('/x'))).error).toMatch(/not an HTTP\/1.1 answer/);
    expect((await call(client, request('/x'))).error).toMatch(/closed before the answer ended/);
    await client.close();
    await new Promise((r) => liar.close(r));
  });

  it('fails requests once closed', async () => {
    const client = new LeanHttpClient(origin, 1);
    await client.close();
    expect((await call(client, request('/length'))).error).toMatch(/closed/);
  });
});
