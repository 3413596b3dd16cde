import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Bounds the requests one client may have in flight: per connection (HTTP/1.1 pipelining lets a
 * connection queue many) and per remote address (over all its connections), so one client cannot
 * take every upstream slot and all the gateway's memory. A request counts from its arrival until
 * its response closes (finished, or the client went away). Counted in node:http's request
 * listener, before the /v1 front door and Fastify, so every route is covered for one Map lookup.
 */
export class ClientConcurrency {
  /**
   * Counters as objects: a request finds its two counters once and its close decrements them
   * directly, where numbers in the maps took a get and a set each way per request.
   */
  private readonly perAddress = new Map<string, InFlight>();
  private readonly perSocket = new WeakMap<Socket, InFlight>();

  constructor(
    private readonly maxPerConnection: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Counts the request in and answers true, or answers false (and counts nothing) when a bound is reached. */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const socket = req.socket;
    const address = socket.remoteAddress ?? '';
    let onSocket = this.perSocket.get(socket);
    let fromAddress = this.perAddress.get(address);
    if ((onSocket?.count ?? 0) >= this.maxPerConnection || (fromAddress?.count ?? 0) >= this.maxPerAddress) return false;
    if (onSocket === undefined) this.perSocket.set(socket, (onSocket = { count: 0 }));
    if (fromAddress === undefined) this.perAddress.set(address, (fromAddress = { count: 0 }));
    onSocket.count++;
    fromAddress.count++;
    const socketCount = onSocket;
    const addressCount = fromAddress;
    let released = false;
    // on, not once: once wraps every listener in a closure of its own; `released` keeps it to one decrement.
    res.on('close', () => {
      if (released) return;
      released = true;
      socketCount.count--;
      // Deleted at zero, when no request holds it any more; a later one starts a new counter.
      if (--addressCount.count <= 0 && this.perAddress.get(address) === addressCount) this.perAddress.delete(address);
    });
    return true;
  }

  inFlight(address: string): number {
    return this.perAddress.get(address)?.count ?? 0;
  }
}

interface InFlight {
  count: number;
}
