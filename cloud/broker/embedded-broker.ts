import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AuthErrorCode, type AuthenticateError, type Client } from 'aedes';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RepeatedWarnings } from '../../shared/repeated-warnings.js';
import type { Logger } from '../../shared/log.js';
import type { Identity, Refusal, SiteAuthorizer } from '../sites/authorizer.js';
import type { BrokerConfig } from './config.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import { boundOfflineQueues } from './queue-bound.js';

/** MQTT CONNACK return codes of 3.1.1 (aedes speaks 3.1.1). */
const BAD_CREDENTIALS: AuthErrorCode = 4;
const NOT_AUTHORIZED: AuthErrorCode = 5;
const IDENTIFIER_REJECTED: AuthErrorCode = 2;
/** Secret checks are at their limit: the client reconnects shortly, as for a broker restart. */
const SERVER_UNAVAILABLE: AuthErrorCode = 3;
/** A refusal of a kind is logged once per window; the rest of the window is one summary line. */
const REFUSAL_LOG_WINDOW_MS = 10_000;

/**
 * An MQTT broker inside the cloud process (aedes, MQTT 3.1.1) for one-VM installs and the demo.
 * Every client authenticates against the site registry (a site, or the cloud itself); a site
 * publishes only its own readings and status and subscribes only to its own acks; only the cloud
 * publishes acks. Packets over `maxPacketBytes` end the connection before they are buffered, and
 * an offline client's queue is bounded. Every refusal is logged (throttled) and counted.
 */
export class EmbeddedBroker {
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private readonly identities = new WeakMap<Client, Identity>();
  private readonly refused: Counter;
  private readonly oversized: Counter;
  private readonly connected: Gauge;
  private readonly throttle: RepeatedWarnings;
  private boundAddress: { host: string; port: number } | undefined;

  constructor(
    private readonly config: BrokerConfig,
    private readonly authorizer: SiteAuthorizer,
    private readonly metrics: Registry,
    private readonly log: Logger,
  ) {
    this.refused = new Counter({ name: 'echolake_broker_refused_total', help: 'connects, publishes and subscribes the embedded broker refused', labelNames: ['action', 'reason'], registers: [metrics] });
    this.oversized = new Counter({ name: 'echolake_broker_oversized_packets_total', help: 'connections closed for a packet over broker.maxPacketBytes', registers: [metrics] });
    this.connected = new Gauge({ name: 'echolake_broker_clients', help: 'clients connected to the embedded broker', registers: [metrics] });
    this.throttle = new RepeatedWarnings(log, REFUSAL_LOG_WINDOW_MS);
  }

  /** Where it listens, once started (port 0 picks a free one). */
  get address(): { host: string; port: number } {
    if (this.boundAddress === undefined) throw new Error('the embedded broker has not started');
    return this.boundAddress;
  }

  get url(): string {
    const scheme = this.config.tls.certFile === undefined ? 'mqtt' : 'mqtts';
    return `${scheme}://${this.address.host}:${this.address.port}`;
  }

  async start(): Promise<void> {
    const dropped = new Counter({ name: 'echolake_broker_queue_dropped_total', help: 'messages dropped because an offline client\'s queue was full', registers: [this.metrics] });
    const broker = await Aedes.createBroker({
      persistence: boundOfflineQueues(this.config.maxQueuedPerClient, () => dropped.inc()),
      maxClientsIdLength: 128,
      concurrency: this.config.concurrency,
      authenticate: (client, username, password, done) => void this.authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => done(this.decide('publish', client, packet.topic)),
      // A refused filter gets SUBACK 0x80 and the client stays connected; a refused publish ends
      // the connection (MQTT 3.1.1 has no way to refuse one PUBLISH).
      authorizeSubscribe: (client, subscription, done) => done(null, this.decide('subscribe', client, subscription.topic) === null ? subscription : null),
    });
    broker.on('client', () => this.connected.inc());
    broker.on('clientDisconnect', () => this.connected.dec());
    const handle = (socket: Socket): void => {
      this.guard(socket);
      broker.handle(socket);
    };
    const { certFile, keyFile } = this.config.tls;
    const server = certFile !== undefined && keyFile !== undefined
      ? createTlsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handle)
      : createTcpServer(handle);
    this.broker = broker;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.host, () => resolve());
    });
    const address = server.address();
    this.boundAddress = { host: this.config.host, port: typeof address === 'object' && address !== null ? address.port : this.config.port };
    this.log.info({ url: this.url }, 'embedded mqtt broker listening');
  }

  async stop(): Promise<void> {
    // The broker first: it closes the clients' connections, which server.close() would wait for.
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.throttle.flush();
  }

  /** Small batches go out at once: without noDelay, Nagle meets delayed ACKs and a round trip takes 40 ms more. */
  private guard(socket: Socket): void {
    socket.setNoDelay(true);
    const sizes = new PacketSizeGuard(this.config.maxPacketBytes);
    socket.prependListener('data', (chunk: Buffer) => {
      const length = sizes.feed(chunk);
      if (length === undefined) return;
      this.oversized.inc();
      this.throttle.warn('oversized', { remote: socket.remoteAddress, bytes: length, limit: this.config.maxPacketBytes }, 'connection closed: MQTT packet over broker.maxPacketBytes (or malformed length)');
      socket.destroy();
    });
  }

  private async authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: (error: AuthenticateError | null, success: boolean | null) => void): Promise<void> {
    const refuse = (code: AuthErrorCode, reason: Refusal, detail: string): void => {
      this.refused.inc({ action: 'connect', reason });
      this.throttle.warn(`connect:${reason}:${username ?? ''}`, { clientId: client.id.slice(0, 128), user: username?.slice(0, 64), reason, detail }, 'mqtt connect refused');
      const error: AuthenticateError = Object.assign(new Error(detail), { returnCode: code });
      done(error, false);
    };
    if (username === undefined || password === undefined) return refuse(BAD_CREDENTIALS, 'unknown-user', 'anonymous clients are refused: connect with the site id and its secret');
    let result;
    try {
      result = await this.authorizer.authenticate(username, password.toString(), (client.conn as Partial<Socket>).remoteAddress);
    } catch (err) {
      this.log.error({ err }, 'authentication failed with an error');
      return refuse(BAD_CREDENTIALS, 'bad-secret', 'authentication failed');
    }
    if (!result.ok) return refuse(connackFor(result.reason), result.reason, result.detail);
    const clientId = this.authorizer.clientId(result.identity, client.id);
    if (!clientId.ok) return refuse(IDENTIFIER_REJECTED, clientId.reason, clientId.detail);
    this.identities.set(client, result.identity);
    done(null, true);
  }

  private decide(action: 'publish' | 'subscribe', client: Client | null, topic: string): Error | null {
    // Messages the broker publishes itself (a will is published on its client's behalf) carry no client.
    if (client === null) return null;
    const identity = this.identities.get(client);
    if (identity === undefined) return this.refuse(action, client, topic, 'unknown-user', 'not authenticated');
    const decision = action === 'publish' ? this.authorizer.publish(identity, topic) : this.authorizer.subscribe(identity, topic);
    if (decision.ok) return null;
    return this.refuse(action, client, topic, decision.reason, decision.detail, identity);
  }

  private refuse(action: string, client: Client, topic: string, reason: Refusal, detail: string, identity?: Identity): Error {
    this.refused.inc({ action, reason });
    const who = identity?.kind === 'site' ? identity.siteId : identity?.kind;
    this.throttle.warn(`${action}:${reason}:${who ?? ''}`, { action, siteId: who, clientId: client.id.slice(0, 128), topic: topic.slice(0, 200), reason, detail }, `mqtt ${action} refused`);
    return new Error(detail);
  }
}

function connackFor(reason: Refusal): AuthErrorCode {
  if (reason === 'site-disabled') return NOT_AUTHORIZED;
  if (reason === 'busy') return SERVER_UNAVAILABLE;
  return BAD_CREDENTIALS;
}
