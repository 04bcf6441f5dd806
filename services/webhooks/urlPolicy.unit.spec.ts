import { loadConfig } from '../platform/config';
import { AppError } from '../platform/errors';
import type { AddressClass, WebhookUrlPolicy } from './urlPolicy';
import {
  allowedWebhookAddresses,
  checkWebhookUrl,
  classifyAddress,
  isForbiddenAddress,
  parseIpv6,
  webhookUrlPolicy,
} from './urlPolicy';

const strict = { allowLoopback: false, allowPrivateNetworks: false };
const development = { allowLoopback: true, allowPrivateNetworks: false };
const internal = { allowLoopback: false, allowPrivateNetworks: true };

describe('classifyAddress', () => {
  test.each<[string, AddressClass]>([
    // IPv4
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.15.255.255', 'public'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.0', 'public'],
    ['198.18.0.1', 'private'],
    ['169.254.0.1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['2606:4700:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456:789a::1', 'unique_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['100::1', 'reserved'],
    ['fd00:ec2::254', 'metadata'],
    ['4000::1', 'reserved'],
    // IPv4 inside IPv6: judged by the IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'reserved'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:0808:0808::1', 'public'],
    // Not addresses
    ['localhost', 'reserved'],
    ['', 'reserved'],
    ['1.2.3', 'reserved'],
  ])('%s is %s', (ip, kind) => {
    expect(classifyAddress(ip)).toBe(kind);
  });

  test('parseIpv6 expands every form', () => {
    expect(parseIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1::')).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1:2:3:4:5:6:1.2.3.4')).toEqual([1, 2, 3, 4, 5, 6, 0x102, 0x304]);
    expect(parseIpv6('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x102, 0x304]);
    expect(parseIpv6('not an address')).toBeUndefined();
  });
});

describe('isForbiddenAddress', () => {
  test.each<[string, boolean, boolean, boolean]>([
    // address, strict, development (loopback allowed), internal (private allowed)
    ['8.8.8.8', false, false, false],
    ['2606:4700:4700::1111', false, false, false],
    ['127.0.0.1', true, false, true],
    ['::1', true, false, true],
    ['::ffff:127.0.0.1', true, false, true],
    ['10.0.0.1', true, true, false],
    ['192.168.0.10', true, true, false],
    ['169.254.1.1', true, true, false],
    ['fd00::1', true, true, false],
    ['fe80::1', true, true, false],
    ['::ffff:10.1.2.3', true, true, false],
    // Never, whatever the policy
    ['169.254.169.254', true, true, true],
    ['fd00:ec2::254', true, true, true],
    ['0.0.0.0', true, true, true],
    ['::', true, true, true],
    ['224.0.0.1', true, true, true],
    ['ff02::1', true, true, true],
    ['255.255.255.255', true, true, true],
    ['192.0.2.1', true, true, true],
    ['not-an-ip', true, true, true],
  ])('%s: strict %s, loopback allowed %s, private allowed %s', (ip, asStrict, asDevelopment, asInternal) => {
    expect(isForbiddenAddress(ip, strict)).toBe(asStrict);
    expect(isForbiddenAddress(ip, development)).toBe(asDevelopment);
    expect(isForbiddenAddress(ip, internal)).toBe(asInternal);
  });

  test('with both allowed, loopback and private pass but metadata does not', () => {
    const both = { allowLoopback: true, allowPrivateNetworks: true };
    expect(isForbiddenAddress('127.0.0.1', both)).toBe(false);
    expect(isForbiddenAddress('10.0.0.1', both)).toBe(false);
    expect(isForbiddenAddress('169.254.169.254', both)).toBe(true);
  });
});

describe('checkWebhookUrl', () => {
  const resolving =
    (table: Record<string, string[]>): WebhookUrlPolicy['lookup'] =>
    async (host) => {
      const found = table[host];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return found;
    };
  const dns = resolving({
    'partner.example': ['203.0.114.10', '2606:4700::6810:1'],
    'rebind.example': ['8.8.8.8', '127.0.0.1'],
    'intranet.example': ['10.1.2.3'],
    'metadata.example': ['169.254.169.254'],
    'dev.example': ['127.0.0.1', '::1'],
  });
  const refusal = async (url: string, policy: WebhookUrlPolicy) => {
    try {
      await checkWebhookUrl(url, policy);
    } catch (err) {
      if (err instanceof AppError)
        return { status: err.status, code: err.code, message: err.message, details: err.details };
      throw err;
    }
    return undefined;
  };

  test('https to a public host passes; the addresses checked are returned', async () => {
    await expect(checkWebhookUrl('https://partner.example/hooks', { ...strict, lookup: dns })).resolves.toBeUndefined();
    await expect(allowedWebhookAddresses('https://partner.example/h', { ...strict, lookup: dns })).resolves.toEqual([
      '203.0.114.10',
      '2606:4700::6810:1',
    ]);
  });

  test('plain http passes only to loopback, and only when loopback is allowed', async () => {
    await expect(checkWebhookUrl('http://127.0.0.1:8080/h', development)).resolves.toBeUndefined();
    await expect(checkWebhookUrl('http://[::1]:8080/h', development)).resolves.toBeUndefined();
    await expect(checkWebhookUrl('http://dev.example/h', { ...development, lookup: dns })).resolves.toBeUndefined();
    expect(await refusal('http://8.8.8.8/h', development)).toMatchObject({
      status: 422,
      code: 'WEBHOOK_URL_FORBIDDEN',
      message: /must use https; plain http is allowed only to loopback/,
    });
    expect(await refusal('http://partner.example/h', { ...development, lookup: dns })).toMatchObject({
      code: 'WEBHOOK_URL_FORBIDDEN',
    });
    expect(await refusal('http://127.0.0.1:8080/h', strict)).toMatchObject({
      code: 'WEBHOOK_URL_FORBIDDEN',
      details: { address_class: 'loopback' },
    });
  });

  test.each<[string, AddressClass]>([
    ['https://10.0.0.1/h', 'private'],
    ['https://169.254.169.254/latest/meta-data', 'metadata'],
    ['https://[::1]/h', 'loopback'],
    ['https://[fd00::1]/h', 'unique_local'],
    ['https://[::ffff:127.0.0.1]/h', 'loopback'],
    ['https://0x7f000001/h', 'loopback'],
    ['https://2130706433/h', 'loopback'],
    ['https://intranet.example/h', 'private'],
    ['https://metadata.example/h', 'metadata'],
    ['https://dev.example/h', 'loopback'],
  ])('%s is refused (%s)', async (url, kind) => {
    expect(await refusal(url, { ...strict, lookup: dns })).toMatchObject({
      status: 422,
      code: 'WEBHOOK_URL_FORBIDDEN',
      details: { field: 'url', address_class: kind },
    });
  });

  test('every resolved address must pass: one forbidden among public ones refuses the URL', async () => {
    expect(await refusal('https://rebind.example/h', { ...strict, lookup: dns })).toMatchObject({
      code: 'WEBHOOK_URL_FORBIDDEN',
      details: { host: 'rebind.example', address: '127.0.0.1' },
    });
  });

  test('private networks pass when allowed (over https)', async () => {
    await expect(checkWebhookUrl('https://intranet.example/h', { ...internal, lookup: dns })).resolves.toBeUndefined();
    expect(await refusal('http://intranet.example/h', { ...internal, lookup: dns })).toMatchObject({
      code: 'WEBHOOK_URL_FORBIDDEN',
      message: /must use https/,
    });
  });

  test('a malformed URL or one with credentials is INVALID_WEBHOOK_URL, before any lookup', async () => {
    const lookup = jest.fn(dns);
    expect(await refusal('http://user:pw@127.0.0.1/h', { ...development, lookup })).toMatchObject({
      status: 422,
      code: 'INVALID_WEBHOOK_URL',
      message: /user name or password/,
    });
    expect(await refusal('ftp://partner.example/h', { ...strict, lookup })).toMatchObject({
      code: 'INVALID_WEBHOOK_URL',
    });
    expect(lookup).not.toHaveBeenCalled();
  });

  test('a host that does not resolve, or not in time, is WEBHOOK_URL_UNRESOLVABLE', async () => {
    expect(await refusal('https://nowhere.example/h', { ...strict, lookup: dns })).toMatchObject({
      status: 422,
      code: 'WEBHOOK_URL_UNRESOLVABLE',
      message: /ENOTFOUND/,
    });
    const slow = () => new Promise<string[]>(() => undefined);
    expect(await refusal('https://slow.example/h', { ...strict, lookup: slow, lookupTimeoutMs: 20 })).toMatchObject({
      code: 'WEBHOOK_URL_UNRESOLVABLE',
      message: /no answer within 20 ms/,
    });
  });

  test('the system resolver: localhost is loopback', async () => {
    await expect(checkWebhookUrl('http://localhost:9/h', development)).resolves.toBeUndefined();
    expect(await refusal('http://localhost:9/h', strict)).toMatchObject({
      code: 'WEBHOOK_URL_FORBIDDEN',
      details: { address_class: 'loopback' },
    });
  });
});

describe('webhookUrlPolicy (configuration)', () => {
  test('loopback is allowed by default, except in production; private networks only when told', () => {
    expect(webhookUrlPolicy(loadConfig({}))).toEqual({ allowLoopback: true, allowPrivateNetworks: false });
    expect(webhookUrlPolicy(loadConfig({ NODE_ENV: 'production' }))).toEqual({
      allowLoopback: false,
      allowPrivateNetworks: false,
    });
    expect(
      webhookUrlPolicy(
        loadConfig({ NODE_ENV: 'production', WEBHOOK_ALLOW_LOOPBACK: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }),
      ),
    ).toEqual({ allowLoopback: true, allowPrivateNetworks: true });
    expect(webhookUrlPolicy(loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'false' })).allowLoopback).toBe(false);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' })).toThrow(/WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
  });
});
