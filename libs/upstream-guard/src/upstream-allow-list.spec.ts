import { classifyAddress } from './address-class.js';
import { AllowListError, UpstreamAllowList } from './upstream-allow-list.js';

const verdict = (address: string) => classifyAddress(address)!;

describe('UpstreamAllowList', () => {
  it('is empty when not set', () => {
    expect(UpstreamAllowList.parse(undefined).isEmpty).toBe(true);
    expect(UpstreamAllowList.parse(' , ').isEmpty).toBe(true);
    expect(UpstreamAllowList.parse('').allowsAddress(verdict('10.0.0.1'))).toBe(false);
  });

  it('lets through addresses inside a listed CIDR, and only those', () => {
    const list = UpstreamAllowList.parse('10.1.0.0/16, fd00:1::/32');
    expect(list.allowsAddress(verdict('10.1.2.3'))).toBe(true);
    expect(list.allowsAddress(verdict('10.2.0.1'))).toBe(false);
    expect(list.allowsAddress(verdict('fd00:1::5'))).toBe(true);
    expect(list.allowsAddress(verdict('fd00:2::5'))).toBe(false);
  });

  it('matches an IPv4 range against the IPv4 address an IPv6 form carries', () => {
    const list = UpstreamAllowList.parse('127.0.0.2/32');
    expect(list.allowsAddress(verdict('::ffff:127.0.0.2'))).toBe(true);
    expect(list.allowsAddress(verdict('::ffff:127.0.0.1'))).toBe(false);
  });

  it('takes a single address in any notation as a /32 or /128', () => {
    const list = UpstreamAllowList.parse('0x7f000002,::1');
    expect(list.allowsAddress(verdict('127.0.0.2'))).toBe(true);
    expect(list.allowsAddress(verdict('127.0.0.3'))).toBe(false);
    expect(list.allowsAddress(verdict('::1'))).toBe(true);
  });

  it('lets a cloud metadata address through only an entry that is exactly that address', () => {
    expect(UpstreamAllowList.parse('169.254.0.0/16').allowsAddress(verdict('169.254.169.254'))).toBe(false);
    expect(UpstreamAllowList.parse('169.254.0.0/16').allowsAddress(verdict('169.254.1.1'))).toBe(true);
    expect(UpstreamAllowList.parse('169.254.169.254/32').allowsAddress(verdict('169.254.169.254'))).toBe(true);
  });

  it('matches host names case-insensitively, without a trailing dot, and under *. entries', () => {
    const list = UpstreamAllowList.parse('Ollama.Internal,*.corp.example');
    expect(list.allowsHostName('ollama.internal.')).toBe(true);
    expect(list.allowsHostName('vllm.gpu.corp.example')).toBe(true);
    expect(list.allowsHostName('corp.example')).toBe(false);
    expect(list.allowsHostName('evilcorp.example')).toBe(false);
    expect(list.listsHostNameExactly('vllm.gpu.corp.example')).toBe(false);
    expect(list.listsHostNameExactly('ollama.internal')).toBe(true);
  });

  it('refuses entries that are neither a CIDR, an address nor a host name, naming each', () => {
    const err = (() => {
      try {
        UpstreamAllowList.parse('10.0.0.0/8, 10.0.0.0/33, not a host, http://x/');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(AllowListError);
    expect((err as AllowListError).badEntries).toEqual(['10.0.0.0/33', 'not a host', 'http://x/']);
    expect((err as Error).message).toContain('"10.0.0.0/33"');
  });
});
