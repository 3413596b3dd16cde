import type { buildConnector } from 'undici';
import { parseAddress } from './address-class.js';
import type { HostResolver } from './host-resolver.js';
import type { UpstreamAddressPolicy } from './upstream-address-policy.js';

export interface GuardedConnectorOptions {
  policy: UpstreamAddressPolicy;
  resolver: HostResolver;
  /** Opens the socket (undici's `buildConnector(...)` in production; a recording fake in tests). */
  connect: buildConnector.connector;
}

/** Failures after which the next checked address of the same name is worth a try (as happy eyeballs would). */
const TRY_NEXT_ADDRESS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT']);

/**
 * An undici connector that checks where a new connection goes before it opens it: a host name is
 * resolved once, every address it resolves to is checked (one forbidden answer refuses the lot:
 * a name that mixes public and internal answers is a rebinding attempt), and the socket is opened
 * to an address that was checked, given as an IP literal so nothing resolves the name again
 * between check and use. TLS keeps the name as servername (SNI and certificate check). An address
 * literal in the URL is checked too (Node's net does not call `lookup` for one).
 *
 * Runs once per new socket; keep-alive sockets are reused without it.
 */
export function guardedConnector({ policy, resolver, connect }: GuardedConnectorOptions): buildConnector.connector {
  const refuse = (callback: buildConnector.Callback, err: Error): void => {
    // Asynchronously, as a failing socket would: undici does not expect its callback inside connect().
    queueMicrotask(() => callback(err, null));
  };
  return (options, callback) => {
    const host = options.hostname;
    const literal = parseAddress(host);
    if (literal !== undefined) {
      const refused = policy.checkAddress(host, host);
      if (refused) return refuse(callback, refused);
      connect({ ...options, hostname: literal.toString() }, callback);
      return;
    }
    const refusedName = policy.checkHostName(host);
    if (refusedName) return refuse(callback, refusedName);
    resolver.resolve(host).then(
      (addresses) => {
        if (addresses.length === 0) return callback(Object.assign(new Error(`${host} resolves to no address`), { code: 'ENOTFOUND' }), null);
        for (const address of addresses) {
          const refused = policy.checkAddress(host, address);
          if (refused) return callback(refused, null);
        }
        const servername = options.servername || host;
        const attempt = (i: number): void => {
          connect({ ...options, hostname: addresses[i]!, servername }, (...args) => {
            const [err] = args;
            if (err && i + 1 < addresses.length && TRY_NEXT_ADDRESS.has((err as NodeJS.ErrnoException).code ?? '')) return attempt(i + 1);
            callback(...args);
          });
        };
        attempt(0);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)), null),
    );
  };
}
