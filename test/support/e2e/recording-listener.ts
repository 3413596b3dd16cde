import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A TCP listener that records every connection it gets and answers nothing: stands for an internal service the gateway must not reach. */
export class RecordingListener {
  readonly connections: string[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((socket) => {
    this.connections.push(`${socket.remoteAddress}:${socket.remotePort}`);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.destroy();
  });

  async listen(host: string): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
