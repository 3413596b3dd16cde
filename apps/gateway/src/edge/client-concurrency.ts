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
  private readonly perAddress = new Map<string, number>();
  private readonly perSocket = new WeakMap<Socket, number>();

  constructor(
    private readonly maxPerConnection: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Counts the request in and answers true, or answers false (and counts nothing) when a bound is reached. */
  admit(req: IncomingMessage, res: ServerResponse): boolean {
    const socket = req.socket;
    const address = socket.remoteAddress ?? '';
    const onSocket = this.perSocket.get(socket) ?? 0;
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (onSocket >= this.maxPerConnection || fromAddress >= this.maxPerAddress) return false;
    this.perSocket.set(socket, onSocket + 1);
    this.perAddress.set(address, fromAddress + 1);
    res.once('close', () => {
      this.perSocket.set(socket, (this.perSocket.get(socket) ?? 1) - 1);
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    });
    return true;
  }

  /** Requests in flight from `address` (for tests and metrics). */
  inFlight(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }
}
