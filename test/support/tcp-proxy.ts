import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on loopback standing in for the network between a site and the cloud: it can cut
 * the link (every connection dropped, new ones refused for a while) and be pointed at another
 * backend, the way a restarted broker comes back.
 */
export class TcpProxy {
  private readonly server: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  private cutUntil = 0;
  private holding = false;

  private constructor(private targetPort: number) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetPort);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  /** Drops every connection and refuses new ones for `ms`. */
  cut(ms: number): void {
    this.cutUntil = Date.now() + ms;
    this.dropAll();
  }

  /**
   * While on, nothing from the backend reaches the client (requests still go through): the
   * cloud gets a batch and answers, and the answer never arrives.
   */
  holdReplies(on: boolean): void {
    this.holding = on;
    for (const [client, backend] of this.pairs) {
      if (on) backend.unpipe(client);
      else backend.pipe(client);
    }
  }

  /** New connections go to another backend; the current ones are dropped. */
  retarget(port: number): void {
    this.targetPort = port;
    this.dropAll();
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    if (Date.now() < this.cutUntil) {
      client.destroy();
      return;
    }
    const backend = connect(this.targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, backend];
    this.pairs.add(pair);
    const drop = () => {
      client.destroy();
      backend.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    backend.on('error', drop).on('close', drop);
    client.pipe(backend);
    if (!this.holding) backend.pipe(client);
  }

  private dropAll(): void {
    for (const [client, backend] of this.pairs) {
      client.destroy();
      backend.destroy();
    }
    this.pairs.clear();
  }
}
