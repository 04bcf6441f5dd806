import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { webhookUrlProblem } from '../../domain/identity/webhookSubscription';
import type { Config } from '../platform/config';
import { UnprocessableError } from '../platform/errors';

/**
 * Where a webhook may be delivered (against SSRF: a subscription must not turn microcred into a
 * client of its own network). https only, except plain http to loopback for development; every
 * address the host resolves to must be allowed: loopback only when `allowLoopback`; private,
 * shared (CGNAT), link-local and unique-local only when `allowPrivateNetworks`; unspecified,
 * multicast, broadcast, documentation, reserved and cloud-metadata addresses never.
 *
 * Checked when a subscription is created or its URL changed, and again by the deliverer for
 * each address it connects to (`isForbiddenAddress`), since a name may resolve elsewhere later
 * (DNS rebinding).
 */
export interface WebhookUrlPolicy {
  allowLoopback: boolean;
  allowPrivateNetworks: boolean;
  /** Resolves a host name to all its addresses; default: the system resolver (`dns.lookup`, all). */
  lookup?: (host: string) => Promise<string[]>;
  /** How long resolution may take before the URL is refused as unresolvable. */
  lookupTimeoutMs?: number;
}

/** The policy of a process: loopback allowed unless NODE_ENV=production, private networks when told. */
export function webhookUrlPolicy(
  config: Pick<Config, 'NODE_ENV' | 'WEBHOOK_ALLOW_LOOPBACK' | 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'>,
): WebhookUrlPolicy {
  return {
    allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK ?? config.NODE_ENV !== 'production',
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
  };
}

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unique_local'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'metadata';

const ALWAYS_FORBIDDEN: ReadonlySet<AddressClass> = new Set(['unspecified', 'multicast', 'reserved', 'metadata']);
const PRIVATE_CLASSES: ReadonlySet<AddressClass> = new Set(['private', 'link_local', 'unique_local']);

/** True when the policy forbids delivering to `ip` (an IPv4 or IPv6 address; anything else is forbidden). */
export function isForbiddenAddress(
  ip: string,
  policy: Pick<WebhookUrlPolicy, 'allowLoopback' | 'allowPrivateNetworks'>,
): boolean {
  const kind = classifyAddress(ip);
  if (ALWAYS_FORBIDDEN.has(kind)) return true;
  if (kind === 'loopback') return !policy.allowLoopback;
  if (PRIVATE_CLASSES.has(kind)) return !policy.allowPrivateNetworks;
  return false;
}

// --- Address classes -----------------------------------------------------------------------------

/** [first address, prefix length, class], IPv4; the first match wins (more specific ranges first). */
const IPV4_RANGES: readonly [string, number, AddressClass][] = [
  // Cloud instance metadata (AWS, GCP, Azure: 169.254.169.254; ECS task metadata; Alibaba): never.
  ['169.254.169.254', 32, 'metadata'],
  ['169.254.170.2', 32, 'metadata'],
  ['100.100.100.200', 32, 'metadata'],
  ['0.0.0.0', 8, 'unspecified'], // "this network"
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'private'], // shared address space (carrier-grade NAT)
  ['198.18.0.0', 15, 'private'], // benchmarking
  ['169.254.0.0', 16, 'link_local'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // documentation
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast (deprecated)
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // reserved, and the broadcast address
];

function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

const ipv4Ranges = IPV4_RANGES.map(([first, bits, kind]) => {
  const size = 2 ** (32 - bits);
  const start = Math.floor(ipv4ToNumber(first) / size) * size;
  return { start, end: start + size - 1, kind };
});

function classifyIpv4Number(n: number): AddressClass {
  return ipv4Ranges.find((r) => n >= r.start && n <= r.end)?.kind ?? 'public';
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included), or undefined. */
export function parseIpv6(ip: string): number[] | undefined {
  const text = ip.replace(/^\[|\]$/g, '').split('%')[0]!;
  if (!isIPv6(text)) return undefined;
  let head = text;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    head = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
    const v4 = ipv4ToNumber(dotted[2]!);
    tail.push(Math.floor(v4 / 65536), v4 % 65536);
  }
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const [left, right] = head.split('::') as [string, string | undefined];
  const front = groups(left);
  const back = right === undefined ? [] : groups(right);
  const missing = 8 - tail.length - front.length - back.length;
  if (right === undefined && missing !== 0) return undefined;
  return [...front, ...new Array<number>(Math.max(0, missing)).fill(0), ...back, ...tail];
}

function classifyIpv6(g: number[]): AddressClass {
  const [a, b, c, d, e, f, g6, h] = g as [number, number, number, number, number, number, number, number];
  const v4 = (hi: number, lo: number) => classifyIpv4Number(hi * 65536 + lo);
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroTo(8)) return 'unspecified';
  if (zeroTo(7) && h === 1) return 'loopback';
  if (zeroTo(5) && f === 0xffff) return v4(g6, h); // IPv4-mapped ::ffff:a.b.c.d
  if (zeroTo(6)) return 'reserved'; // IPv4-compatible ::a.b.c.d (deprecated)
  if (a === 0x64 && b === 0xff9b && c === 0 && d === 0 && e === 0 && f === 0) return v4(g6, h); // NAT64 64:ff9b::/96
  if (a === 0x64 && b === 0xff9b && c === 1) return 'private'; // local-use NAT64 64:ff9b:1::/48
  if (a === 0x100 && b === 0 && c === 0 && d === 0) return 'reserved'; // discard-only 100::/64
  if (a === 0x2001 && b === 0) return 'reserved'; // Teredo 2001::/32: tunnels to any IPv4
  if (a === 0x2001 && b === 0xdb8) return 'reserved'; // documentation
  if (a === 0x2002) return v4(b, c); // 6to4 2002:a.b.c.d::/48
  if (a === 0xfd00 && b === 0xec2 && c === 0 && d === 0 && e === 0 && f === 0 && g6 === 0 && h === 0x254) {
    return 'metadata'; // AWS instance metadata over IPv6
  }
  if ((a & 0xfe00) === 0xfc00) return 'unique_local'; // fc00::/7
  if ((a & 0xffc0) === 0xfe80) return 'link_local'; // fe80::/10
  if ((a & 0xffc0) === 0xfec0) return 'private'; // site-local (deprecated)
  if ((a & 0xff00) === 0xff00) return 'multicast';
  if ((a & 0xe000) === 0x2000) return 'public'; // global unicast 2000::/3
  return 'reserved'; // unassigned
}

/** What kind of address `ip` is; anything that is not an IP address is `reserved` (so forbidden). */
export function classifyAddress(ip: string): AddressClass {
  const text = ip.trim();
  if (isIPv4(text)) return classifyIpv4Number(ipv4ToNumber(text));
  const groups = parseIpv6(text);
  return groups ? classifyIpv6(groups) : 'reserved';
}

// --- URLs ---------------------------------------------------------------------------------------

const DEFAULT_LOOKUP_TIMEOUT_MS = 5000;

async function systemLookup(host: string): Promise<string[]> {
  const found = await dnsLookup(host, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

async function resolve(host: string, policy: WebhookUrlPolicy): Promise<string[]> {
  if (isIP(host)) return [host];
  const timeoutMs = policy.lookupTimeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    const addresses = await Promise.race([
      (policy.lookup ?? systemLookup)(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (addresses.length === 0) throw new Error('no addresses');
    return addresses;
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UnprocessableError(
      `The webhook URL's host ${host} does not resolve (${reason}); give a host name that resolves, or an address.`,
      { field: 'url', host },
      'WEBHOOK_URL_UNRESOLVABLE',
    );
  } finally {
    clearTimeout(timer);
  }
}

const forbidden = (message: string, details: Record<string, unknown>) =>
  new UnprocessableError(message, { field: 'url', ...details }, 'WEBHOOK_URL_FORBIDDEN');

const why: Record<AddressClass, string> = {
  public: 'a public address',
  loopback: 'a loopback address (allowed only with WEBHOOK_ALLOW_LOOPBACK=true)',
  private: 'a private network address (allowed only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)',
  link_local: 'a link-local address (allowed only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)',
  unique_local: 'a unique-local address (allowed only with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true)',
  unspecified: 'an unspecified address',
  multicast: 'a multicast or broadcast address',
  reserved: 'a reserved or documentation address',
  metadata: 'a cloud metadata address',
};

/**
 * The addresses a webhook URL may be delivered to, once the policy allows the URL: its form
 * (the domain's rule, 422 INVALID_WEBHOOK_URL), its host resolved (422 WEBHOOK_URL_UNRESOLVABLE),
 * every address allowed (422 WEBHOOK_URL_FORBIDDEN), and plain http only when every address is
 * loopback. A deliverer may connect to these very addresses.
 */
export async function allowedWebhookAddresses(url: string, policy: WebhookUrlPolicy): Promise<string[]> {
  const problem = webhookUrlProblem(url);
  if (problem !== undefined) throw new UnprocessableError(problem, { field: 'url' }, 'INVALID_WEBHOOK_URL');
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const addresses = await resolve(host, policy);
  for (const address of addresses) {
    if (isForbiddenAddress(address, policy)) {
      const kind = classifyAddress(address);
      throw forbidden(
        `Webhooks may not be delivered to ${host}${address === host ? '' : ` (${address})`}: ${why[kind]}.`,
        { host, address, address_class: kind },
      );
    }
  }
  if (parsed.protocol === 'http:') {
    const notLoopback = addresses.find((a) => classifyAddress(a) !== 'loopback');
    if (notLoopback !== undefined) {
      throw forbidden(
        `Webhook URLs must use https; plain http is allowed only to loopback, for development (${host} is ${notLoopback}).`,
        { host, address: notLoopback, address_class: classifyAddress(notLoopback) },
      );
    }
  }
  return addresses;
}

/** Throws the API's validation error (422) unless webhooks may be delivered to `url`. */
export async function checkWebhookUrl(url: string, policy: WebhookUrlPolicy): Promise<void> {
  await allowedWebhookAddresses(url, policy);
}
