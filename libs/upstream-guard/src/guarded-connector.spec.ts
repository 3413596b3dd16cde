import type { buildConnector } from 'undici';
import { guardedConnector } from './guarded-connector.js';
import { HostResolver } from './host-resolver.js';
import { UpstreamAddressPolicy } from './upstream-address-policy.js';
import { UpstreamAddressRefused } from './upstream-address-refused.js';

/** DNS answers scripted per name; each lookup takes the next answer (the last one repeats). */
class ScriptedResolver extends HostResolver {
  readonly lookups: string[] = [];
  constructor(private readonly answers: Record<string, string[][]>) {
    super();
  }
  async resolve(host: string): Promise<string[]> {
    this.lookups.push(host);
    const queue = this.answers[host];
    if (!queue) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return queue.length > 1 ? queue.shift()! : queue[0]!;
  }
}

/** Stands in for undici's socket connector: records where it was asked to connect, opens nothing. */
class RecordingSocketFactory {
  readonly attempts: buildConnector.Options[] = [];
  /** Error codes to fail the next attempts with (ECONNREFUSED, ...), in order. */
  failWith: string[] = [];
  readonly connect: buildConnector.connector = (options, callback) => {
    this.attempts.push(options);
    const code = this.failWith.shift();
    const fakeSocket = { fake: true } as unknown as Parameters<buildConnector.Callback>[1];
    queueMicrotask(() => (code ? callback(Object.assign(new Error(code), { code }), null) : callback(null, fakeSocket as never)));
  };
}

function run(connector: buildConnector.connector, hostname: string, protocol = 'https:'): Promise<{ err: Error | null; socket: unknown }> {
  return new Promise((resolve) => connector({ hostname, host: hostname, protocol, port: '' }, (err, socket) => resolve({ err, socket })));
}

function setup(allowList: string, answers: Record<string, string[][]>) {
  const resolver = new ScriptedResolver(answers);
  const sockets = new RecordingSocketFactory();
  const connector = guardedConnector({ policy: UpstreamAddressPolicy.fromAllowList(allowList), resolver, connect: sockets.connect });
  return { resolver, sockets, connector };
}

describe('guardedConnector', () => {
  it('connects to the checked address of a public name, keeping the name for TLS', async () => {
    const { sockets, connector } = setup('', { 'api.example.com': [['93.184.215.14']] });
    const { err, socket } = await run(connector, 'api.example.com');
    expect(err).toBeNull();
    expect(socket).toEqual({ fake: true });
    expect(sockets.attempts).toEqual([expect.objectContaining({ hostname: '93.184.215.14', servername: 'api.example.com', protocol: 'https:' })]);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'cloud-metadata'],
    ['10.1.2.3', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['fd12::1', 'unique-local'],
  ])('refuses a name resolving to %s (%s) without opening a socket', async (address, addressClass) => {
    const { sockets, connector } = setup('', { 'evil.example.com': [[address]] });
    const { err } = await run(connector, 'evil.example.com');
    expect(err).toBeInstanceOf(UpstreamAddressRefused);
    expect((err as UpstreamAddressRefused).addressClass).toBe(addressClass);
    expect((err as UpstreamAddressRefused).message).toContain('UPSTREAM_ALLOWLIST');
    expect(sockets.attempts).toHaveLength(0);
  });

  it('refuses a name when any of its answers is forbidden, even after a public one', async () => {
    const { sockets, connector } = setup('', { 'mixed.example.com': [['93.184.215.14', '127.0.0.1']] });
    const { err } = await run(connector, 'mixed.example.com');
    expect((err as UpstreamAddressRefused).addressClass).toBe('loopback');
    expect(sockets.attempts).toHaveLength(0);
  });

  it('resolves once per connection and connects to what it checked, so a rebinding answer cannot slip in', async () => {
    // First answer public, every later one the metadata service: a DNS rebinding attack.
    const { resolver, sockets, connector } = setup('', { 'rebind.example.com': [['93.184.215.14'], ['169.254.169.254']] });
    const first = await run(connector, 'rebind.example.com', 'http:');
    expect(first.err).toBeNull();
    expect(resolver.lookups).toEqual(['rebind.example.com']);
    expect(sockets.attempts.map((a) => a.hostname)).toEqual(['93.184.215.14']);
    // The next connection resolves again and is refused: the check is per socket, on its own answer.
    const second = await run(connector, 'rebind.example.com', 'http:');
    expect((second.err as UpstreamAddressRefused).addressClass).toBe('cloud-metadata');
    expect(resolver.lookups).toHaveLength(2);
    expect(sockets.attempts).toHaveLength(1);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'cloud-metadata'],
    ['0x7f000001', 'loopback'],
  ])('checks an address literal %s without resolving it', async (hostname, addressClass) => {
    const { resolver, sockets, connector } = setup('', {});
    const { err } = await run(connector, hostname, 'http:');
    expect((err as UpstreamAddressRefused).addressClass).toBe(addressClass);
    expect(resolver.lookups).toHaveLength(0);
    expect(sockets.attempts).toHaveLength(0);
  });

  it('connects to an allow-listed literal in canonical notation', async () => {
    const { sockets, connector } = setup('127.0.0.2/32', {});
    expect((await run(connector, '127.0.0.2', 'http:')).err).toBeNull();
    expect(sockets.attempts.map((a) => a.hostname)).toEqual(['127.0.0.2']);
  });

  it('lets allow-listed CIDRs and names reach private addresses, and nothing else', async () => {
    const { sockets, connector } = setup('10.20.0.0/16,ollama.corp.example', {
      'vllm.corp.example': [['10.20.3.4']],
      'ollama.corp.example': [['192.168.7.7']],
      'other.corp.example': [['192.168.7.8']],
    });
    expect((await run(connector, 'vllm.corp.example', 'http:')).err).toBeNull();
    expect((await run(connector, 'ollama.corp.example', 'http:')).err).toBeNull();
    expect(((await run(connector, 'other.corp.example', 'http:')).err as UpstreamAddressRefused).addressClass).toBe('private');
    expect(sockets.attempts.map((a) => a.hostname)).toEqual(['10.20.3.4', '192.168.7.7']);
  });

  it('refuses a metadata host name before resolving it', async () => {
    const { resolver, connector } = setup('', { 'metadata.google.internal': [['169.254.169.254']] });
    const { err } = await run(connector, 'metadata.google.internal', 'http:');
    expect((err as UpstreamAddressRefused).addressClass).toBe('cloud-metadata');
    expect(resolver.lookups).toHaveLength(0);
  });

  it('tries the next checked address when one refuses the connection, and only checked ones', async () => {
    const { sockets, connector } = setup('127.0.0.0/8,::1/128', { 'localhost': [['::1', '127.0.0.1']] });
    sockets.failWith = ['ECONNREFUSED'];
    const { err } = await run(connector, 'localhost', 'http:');
    expect(err).toBeNull();
    expect(sockets.attempts.map((a) => a.hostname)).toEqual(['::1', '127.0.0.1']);
  });

  it('passes a failed lookup on as the connection error', async () => {
    const { connector } = setup('', {});
    const { err } = await run(connector, 'nowhere.example.com');
    expect((err as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});
