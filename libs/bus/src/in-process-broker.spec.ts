import { InProcessBroker, type InProcessMsg } from './in-process-broker.js';

const received = (): { msgs: InProcessMsg[]; callback: (err: Error | null, msg: InProcessMsg) => void } => {
  const msgs: InProcessMsg[] = [];
  return { msgs, callback: (_err, msg) => msgs.push(msg) };
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('InProcessBroker', () => {
  it('delivers a copy of the bytes, never the sender object, asynchronously', async () => {
    const broker = new InProcessBroker();
    const a = broker.connect();
    const sink = received();
    a.subscribe('vault.v1.ping', { callback: sink.callback });
    const payload = new TextEncoder().encode('{"x":1}');
    a.publish('vault.v1.ping', payload);
    expect(sink.msgs).toHaveLength(0); // not synchronous: a network hop
    payload[2] = 0x79; // the sender reuses its buffer
    await tick();
    expect(sink.msgs[0].json()).toEqual({ x: 1 });
  });

  it('refuses payloads that are not strings or bytes, as NATS would', () => {
    const c = new InProcessBroker().connect();
    expect(() => c.publish('a.b', { x: 1 })).toThrow(/strings or bytes/);
  });

  it('gives each message to one member of a queue group, and to every plain subscriber', async () => {
    const broker = new InProcessBroker();
    const [q1, q2, p1, p2] = [received(), received(), received(), received()];
    const c = broker.connect();
    c.subscribe('registry.v1.provider-models.all', { queue: 'model-registry', callback: q1.callback });
    c.subscribe('registry.v1.provider-models.all', { queue: 'model-registry', callback: q2.callback });
    c.subscribe('registry.v1.>', { callback: p1.callback });
    c.subscribe('registry.v1.*', { callback: p2.callback });
    for (let i = 0; i < 4; i++) c.publish('registry.v1.provider-models.all', '{}');
    await tick();
    expect(q1.msgs.length + q2.msgs.length).toBe(4);
    expect(q1.msgs.length).toBe(2);
    expect(p1.msgs).toHaveLength(4);
    expect(p2.msgs).toHaveLength(0); // * matches exactly one token
  });

  it('answers a request on its reply subject', async () => {
    const broker = new InProcessBroker();
    const server = broker.connect();
    const client = broker.connect();
    server.subscribe('metering.v1.ping', { callback: (_e, msg) => msg.respond('{"ok":true}') });
    const replies = received();
    client.subscribe('_INBOX.abc', { callback: replies.callback });
    client.publish('metering.v1.ping', '{}', { reply: '_INBOX.abc' });
    await tick();
    await tick();
    expect(replies.msgs[0].string()).toBe('{"ok":true}');
  });

  it('stops delivering to a closed connection', async () => {
    const broker = new InProcessBroker();
    const a = broker.connect();
    const sink = received();
    a.subscribe('x.y', { callback: sink.callback });
    await a.close();
    broker.connect().publish('x.y', '1');
    await tick();
    expect(sink.msgs).toHaveLength(0);
    await expect(a.closed()).resolves.toBeUndefined();
  });
});
