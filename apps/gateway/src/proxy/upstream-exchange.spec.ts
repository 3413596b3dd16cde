import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { UpstreamAnswerTooLarge, UpstreamExchange } from './upstream-exchange.js';

/** UpstreamExchange against a real node:http server through a real undici Pool. */
describe('UpstreamExchange', () => {
  let server: http.Server;
  let pool: Pool;
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  beforeAll(async () => {
    server = http.createServer((req, res) => handler(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 4 });
  });

  afterAll(async () => {
    await pool.close();
    server.closeAllConnections();
    server.close();
  });

  const send = (exchange: UpstreamExchange): void => {
    pool.dispatch({ path: '/x', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, exchange);
  };

  it('gives status, headers and the whole body', async () => {
    handler = (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-request-id': 'r1' });
      res.write('{"a":');
      setTimeout(() => res.end('1}'), 10);
    };
    const exchange = new UpstreamExchange(1024);
    send(exchange);
    await exchange.head();
    expect(exchange.statusCode).toBe(201);
    expect(exchange.headers['x-request-id']).toBe('r1');
    expect((await exchange.whole()).toString()).toBe('{"a":1}');
  });

  it('ready() waits for the end of a whole answer, the head of a stream or of a redirect, and rejects as head() and whole() would', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
      setTimeout(() => res.end('1}'), 10);
    };
    const whole = new UpstreamExchange(1024);
    send(whole);
    await whole.ready();
    expect(whole.statusCode).toBe(200);
    expect(whole.body.toString()).toBe('{"a":1}');
    await whole.ready(); // settled: at once

    let finish: () => void = () => undefined;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n');
      finish = () => res.end();
    };
    const stream = new UpstreamExchange(1024, (_status, headers) => headers['content-type'] === 'text/event-stream');
    send(stream);
    await stream.ready(); // the stream has not ended
    expect(stream.isStreamed).toBe(true);
    const chunks: string[] = [];
    const streamed = stream.streamTo((c) => chunks.push(c.toString()) > 0);
    finish();
    await streamed;
    expect(chunks.join('')).toBe('data: 1\n\n');

    handler = (_req, res) => {
      res.writeHead(302, { location: 'http://elsewhere/' });
      res.write('moved');
    };
    const redirect = new UpstreamExchange(1024);
    send(redirect);
    await redirect.ready(); // its body never ends
    expect(redirect.statusCode).toBe(302);
    redirect.release();

    handler = (_req, res) => res.end('x'.repeat(5000));
    const tooLarge = new UpstreamExchange(1000);
    send(tooLarge);
    await expect(tooLarge.ready()).rejects.toBeInstanceOf(UpstreamAnswerTooLarge);
  });

  it('refuses a whole answer larger than its limit', async () => {
    handler = (_req, res) => res.end('x'.repeat(5000));
    const exchange = new UpstreamExchange(1000);
    send(exchange);
    await exchange.head();
    await expect(exchange.whole()).rejects.toBeInstanceOf(UpstreamAnswerTooLarge);
  });

  it('decides from the head whether the body is streamed or collected, and holds a stream until it has a sink', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: 1\n\ndata: 2\n\n');
    };
    const exchange = new UpstreamExchange(4, (status, headers) => status < 400 && headers['content-type'] === 'text/event-stream');
    send(exchange);
    await exchange.head();
    expect(exchange.isStreamed).toBe(true);
    await expect(exchange.whole()).rejects.toThrow('streamTo');
    await new Promise((r) => setTimeout(r, 50)); // a late sink misses nothing, and the 4-byte whole limit does not apply
    const chunks: string[] = [];
    await exchange.streamTo((c) => chunks.push(c.toString()) > 0);
    expect(chunks.join('')).toBe('data: 1\n\ndata: 2\n\n');
  });

  it('rejects head() when the upstream cannot be reached', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const nowhere = new Pool(`http://127.0.0.1:${port}`);
    const exchange = new UpstreamExchange(1000);
    nowhere.dispatch({ path: '/', method: 'GET' }, exchange);
    await expect(exchange.head()).rejects.toThrow();
    await nowhere.close();
  });

  it('pauses the upstream while the sink cannot take more, and loses nothing when it resumes', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const total = 400; // 25 MiB: far more than socket buffers hold
    let backPressured = false;
    let written = 0;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pump = (): void => {
        while (written < total) {
          written++;
          if (!res.write(chunk)) {
            backPressured = true;
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    };
    const exchange = new UpstreamExchange(1024, () => true);
    send(exchange);
    await exchange.head();
    let received = 0;
    let accepting = false;
    const done = exchange.streamTo((c) => {
      received += c.length;
      return accepting;
    });
    await new Promise((r) => setTimeout(r, 300));
    // Paused: the server was told to wait, and only what the socket buffers held got through.
    expect(backPressured).toBe(true);
    expect(written).toBeLessThan(total);
    expect(received).toBeLessThan(total * chunk.length);
    accepting = true;
    exchange.resume();
    await done;
    expect(received).toBe(total * chunk.length);
  });

  it('stops the call when aborted, rejecting what waits on it', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: 1\n\n'); // and never ends
    };
    const exchange = new UpstreamExchange(1024, () => true);
    send(exchange);
    await exchange.head();
    const done = exchange.streamTo(() => true);
    exchange.abort(new Error('client left'));
    await expect(done).rejects.toThrow('client left');
  });
});
