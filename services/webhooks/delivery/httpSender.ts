import { lookup as dnsLookup } from 'node:dns/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';

/**
 * One POST of a webhook, the way the spec and our SSRF policy want it: the host is resolved
 * before every attempt and each address checked (a name that resolved to a public address when
 * the subscription was created may point inside the network now: DNS rebinding), and the
 * connection goes to the address that was checked, never to a second lookup's answer. Redirects
 * are not followed (a 3xx is the answer), the whole exchange has a time limit, and only the first
 * kilobyte of the response body is kept.
 */

export const RESPONSE_BODY_KEPT_BYTES = 1024;
/** What we read of a response at most, to let the partner finish writing (then the socket is dropped). */
const RESPONSE_BODY_DRAINED_BYTES = 64 * 1024;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface SenderOptions {
  timeoutMs: number;
  /** Why an address may not be called (undefined: it may). */
  refuse: (address: string, url: URL) => string | undefined;
  /** Host name → addresses; the system resolver by default (tests may pin answers). */
  resolve?: (hostname: string) => Promise<ResolvedAddress[]>;
  userAgent?: string;
}

export interface SenderResponse {
  status: number;
  /** The first kilobyte of the body, as text. */
  body: string;
  headers: IncomingMessage['headers'];
}

/** The attempt never reached the partner, or got no answer in time. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** `refused`: our policy forbade the address; `timeout`; `network`: DNS, connect, reset. */
    readonly kind: 'refused' | 'timeout' | 'network',
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

const systemResolve = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** The checked address of `url`'s host, or a DeliveryError saying why there is none. */
export async function resolveChecked(url: URL, options: SenderOptions): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolve)(host);
    } catch (err) {
      throw new DeliveryError(`${host} did not resolve: ${(err as Error).message}`, 'network');
    }
  }
  if (addresses.length === 0) throw new DeliveryError(`${host} resolved to no address`, 'network');
  // Every answer is checked, not just the one used: a name mixing public and internal
  // addresses is someone probing the network.
  for (const a of addresses) {
    const reason = options.refuse(a.address, url);
    if (reason) throw new DeliveryError(`${host} resolved to ${a.address}, which is refused: ${reason}`, 'refused');
  }
  return addresses[0]!;
}

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 64 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

/** POSTs `body` to `url` with `headers`; resolves with the answer whatever its status. */
export async function postWebhook(
  target: string,
  body: string,
  headers: Record<string, string>,
  options: SenderOptions,
  signal?: AbortSignal,
): Promise<SenderResponse> {
  const url = new URL(target);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DeliveryError(`${url.protocol} is not a webhook scheme`, 'refused');
  }
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const aborted = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const checked = await withAbort(resolveChecked(url, options), aborted, options.timeoutMs);
  // The connection goes to the checked address; TLS still verifies the certificate for the host name.
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if ((lookupOptions as { all?: boolean }).all) {
      (callback as unknown as (err: null, addresses: ResolvedAddress[]) => void)(null, [checked]);
    } else {
      callback(null, checked.address, checked.family);
    }
  };
  const payload = Buffer.from(body, 'utf8');
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<SenderResponse>((resolve, reject) => {
    let settled = false;
    const fail = (err: DeliveryError) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const req = transport.request(
      url,
      {
        method: 'POST',
        agent: agents[url.protocol as 'http:' | 'https:'],
        lookup: pinned,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(payload.length),
          'user-agent': options.userAgent ?? 'microcred-webhooks/1',
        },
      },
      (res) => {
        const kept: Buffer[] = [];
        let keptBytes = 0;
        let readBytes = 0;
        const done = () => {
          if (settled) return;
          settled = true;
          aborted.removeEventListener('abort', onAbort);
          const text = Buffer.concat(kept).subarray(0, RESPONSE_BODY_KEPT_BYTES).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text.replaceAll('\u0000', ''), headers: res.headers });
        };
        res.on('data', (chunk: Buffer) => {
          readBytes += chunk.length;
          if (keptBytes < RESPONSE_BODY_KEPT_BYTES) {
            kept.push(chunk);
            keptBytes += chunk.length;
          }
          if (readBytes >= RESPONSE_BODY_DRAINED_BYTES) {
            // Enough: the answer is known, the rest is the partner's business.
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        // The status line arrived: a body cut short still gives the answer.
        res.on('error', done);
        res.on('aborted', done);
      },
    );
    const onAbort = () => {
      const timedOut = deadline.aborted;
      req.destroy();
      fail(
        new DeliveryError(
          timedOut ? `no answer within ${options.timeoutMs} ms` : 'the attempt was cancelled',
          timedOut ? 'timeout' : 'network',
        ),
      );
    };
    if (aborted.aborted) return onAbort();
    aborted.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => {
      aborted.removeEventListener('abort', onAbort);
      fail(new DeliveryError(`${err.code ?? err.name}: ${err.message}`, 'network'));
    });
    req.end(payload);
  });
}

function withAbort<T>(work: Promise<T>, signal: AbortSignal, timeoutMs: number): Promise<T> {
  if (signal.aborted) return Promise.reject(new DeliveryError(`no answer within ${timeoutMs} ms`, 'timeout'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeliveryError(`no answer within ${timeoutMs} ms`, 'timeout'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
