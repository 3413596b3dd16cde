import { UpstreamAddressPolicy } from './upstream-address-policy.js';
import { UpstreamAddressRefused } from './upstream-address-refused.js';

describe('UpstreamAddressPolicy.checkUrl (create time)', () => {
  const policy = UpstreamAddressPolicy.fromAllowList('');

  it.each([
    ['http://0x7f000001/v1', 'loopback'],
    ['http://2130706433/v1', 'loopback'],
    ['http://127.1/v1', 'loopback'],
    ['http://0177.0.0.1:8080/v1', 'loopback'],
    ['http://[::1]:11434/v1', 'loopback'],
    ['http://[::ffff:169.254.169.254]/latest/meta-data', 'cloud-metadata'],
    ['http://169.254.169.254/latest/meta-data', 'cloud-metadata'],
    ['http://[fd00:ec2::254]/', 'cloud-metadata'],
    ['http://metadata.google.internal/computeMetadata/v1', 'cloud-metadata'],
    ['http://METADATA./', 'cloud-metadata'],
    ['https://10.0.0.5/v1', 'private'],
    ['http://[64:ff9b::7f00:1]/', 'loopback'],
  ])('refuses %s as %s', (url, addressClass) => {
    const refused = policy.checkUrl(url);
    expect(refused).toBeInstanceOf(UpstreamAddressRefused);
    expect(refused?.addressClass).toBe(addressClass);
    expect(refused?.message).toContain('UPSTREAM_ALLOWLIST');
  });

  it.each(['https://api.openai.com/v1', 'http://localhost:11434/v1', 'http://ollama.internal/v1', 'https://8.8.8.8/v1'])('accepts %s (names are checked at connect time)', (url) => {
    expect(policy.checkUrl(url)).toBeUndefined();
  });

  it('accepts a forbidden literal the allow-list lets through', () => {
    const allowing = UpstreamAddressPolicy.fromAllowList('127.0.0.0/8,10.0.0.0/8');
    expect(allowing.checkUrl('http://127.1/v1')).toBeUndefined();
    expect(allowing.checkUrl('http://0x0a000005/v1')).toBeUndefined();
    expect(allowing.checkUrl('http://192.168.1.1/v1')?.addressClass).toBe('private');
  });

  it('lets a metadata name through only when the allow-list names it exactly', () => {
    expect(UpstreamAddressPolicy.fromAllowList('*.internal').checkUrl('http://metadata.google.internal/')?.addressClass).toBe('cloud-metadata');
    expect(UpstreamAddressPolicy.fromAllowList('metadata.google.internal').checkUrl('http://metadata.google.internal/')).toBeUndefined();
  });
});

describe('UpstreamAddressPolicy.checkAddress (connect time)', () => {
  it('lets a listed host name reach private addresses, but never a metadata address', () => {
    const policy = UpstreamAddressPolicy.fromAllowList('vllm.corp.example');
    expect(policy.checkAddress('vllm.corp.example', '10.0.0.7')).toBeUndefined();
    expect(policy.checkAddress('other.corp.example', '10.0.0.7')?.addressClass).toBe('private');
    expect(policy.checkAddress('vllm.corp.example', '169.254.169.254')?.addressClass).toBe('cloud-metadata');
  });

  it('names the host, the address and the class in its message', () => {
    const refused = UpstreamAddressPolicy.fromAllowList('').checkAddress('localhost', '::1');
    expect(refused?.message).toBe('localhost (::1) is a loopback address; the gateway does not connect to it unless UPSTREAM_ALLOWLIST lets it through');
    expect(refused?.publicMessage).toContain('localhost is a loopback address');
    expect(refused?.publicMessage).not.toContain('::1');
    expect(refused?.publicMessage).toContain('UPSTREAM_ALLOWLIST');
    expect(UpstreamAddressPolicy.fromAllowList('').checkUrl('http://0x7f000001/')?.forField('baseUrl')).toMatch(
      /^baseUrl points at 127\.0\.0\.1, a loopback address, which the gateway does not call unless UPSTREAM_ALLOWLIST lets it through/,
    );
  });
});
