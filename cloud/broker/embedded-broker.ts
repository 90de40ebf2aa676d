import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '../../shared/log.js';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
}

/**
 * An MQTT broker inside the cloud process (aedes), for the demo and trusted test installs. It
 * speaks MQTT 3.1.1 only, has no shared subscriptions (one ingest), and no authentication: a
 * production site talks to a real broker with per-site credentials and ACLs.
 */
export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: Server | undefined;

  constructor(
    private readonly options: EmbeddedBrokerOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const broker = await Aedes.createBroker();
    const server = createServer(broker.handle);
    this.broker = broker;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.log.info({ host: this.options.host, port: this.options.port }, 'embedded mqtt broker listening');
  }

  async stop(): Promise<void> {
    // The broker first: it closes the clients' connections, which server.close() would wait for.
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
