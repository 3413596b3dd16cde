import { classifyAddress, type AddressClass } from './address-class.js';

const cases = (rows: Array<[string, AddressClass]>) => rows;

describe('classifyAddress', () => {
  it.each(
    cases([
      ['127.0.0.1', 'loopback'],
      ['127.1', 'loopback'],
      ['127.0.1', 'loopback'],
      ['2130706433', 'loopback'],
      ['0x7f000001', 'loopback'],
      ['0x7f.0.0.1', 'loopback'],
      ['0177.0.0.1', 'loopback'],
      ['017700000001', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['::1', 'loopback'],
      ['[::1]', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
    ]),
  )('%s is loopback in every notation', (text, expected) => {
    expect(classifyAddress(text)?.addressClass).toBe(expected);
  });

  it.each(
    cases([
      ['169.254.169.254', 'cloud-metadata'],
      ['2852039166', 'cloud-metadata'],
      ['0xa9fea9fe', 'cloud-metadata'],
      ['0251.0376.0251.0376', 'cloud-metadata'],
      ['169.254.43518', 'cloud-metadata'],
      ['::ffff:169.254.169.254', 'cloud-metadata'],
      ['[::ffff:a9fe:a9fe]', 'cloud-metadata'],
      ['fd00:ec2::254', 'cloud-metadata'],
      ['FD00:EC2:0:0:0:0:0:254', 'cloud-metadata'],
      ['169.254.170.2', 'cloud-metadata'],
      ['100.100.100.200', 'cloud-metadata'],
      ['64:ff9b::a9fe:a9fe', 'cloud-metadata'],
      ['2002:a9fe:a9fe::1', 'cloud-metadata'],
    ]),
  )('%s is a cloud metadata address', (text, expected) => {
    expect(classifyAddress(text)?.addressClass).toBe(expected);
  });

  it.each(
    cases([
      ['10.0.0.1', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.10', 'private'],
      ['0xc0a8010a', 'private'],
      ['fec0::1', 'private'],
      ['169.254.1.1', 'link-local'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['fd12:3456::1', 'unique-local'],
      ['fc00::1', 'unique-local'],
      ['100.64.0.1', 'cgnat'],
      ['100.127.255.254', 'cgnat'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
      ['::', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['192.0.2.1', 'reserved'],
      ['198.18.0.1', 'reserved'],
      ['2001:db8::1', 'reserved'],
      ['100::1', 'reserved'],
      ['4000::1', 'reserved'],
    ]),
  )('%s is %s', (text, expected) => {
    expect(classifyAddress(text)?.addressClass).toBe(expected);
  });

  it.each(
    cases([
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::127.0.0.2', 'loopback'],
      ['::7f00:2', 'loopback'],
      ['::a00:1', 'private'],
      ['::ffff:0:7f00:1', 'loopback'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['64:ff9b::10.0.0.1', 'private'],
      ['64:ff9b:1::7f00:1', 'loopback'],
      ['64:ff9b:1:7f00:0:100::', 'loopback'],
      ['2002:7f00:1::', 'loopback'],
      ['2002:c0a8:101::1', 'private'],
      ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'],
      ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'],
    ]),
  )('%s is judged by the IPv4 address it carries (%s)', (text, expected) => {
    expect(classifyAddress(text)?.addressClass).toBe(expected);
  });

  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '192.175.48.1'])('%s is public', (text) => {
    expect(classifyAddress(text)?.addressClass).toBe('public');
  });

  it('gives the canonical address and the IPv4 address an IPv6 form carries', () => {
    expect(classifyAddress('0x7f000001')).toEqual({ addressClass: 'loopback', address: '127.0.0.1' });
    expect(classifyAddress('[::ffff:169.254.169.254]')).toEqual({ addressClass: 'cloud-metadata', address: '::ffff:a9fe:a9fe', embeddedIPv4: '169.254.169.254' });
  });

  it.each(['localhost', 'api.openai.com', 'metadata.google.internal', '1.2.3.4.5', '127.0.0.1.nip.io', ''])('%s is not an address', (text) => {
    expect(classifyAddress(text)).toBeUndefined();
  });
});
