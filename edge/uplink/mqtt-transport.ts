import { MqttClient, type IClientOptions } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { siteClientId } from '../../shared/contract/client-ids.js';
import { siteTopic } from '../../shared/contract/topics.js';
import { redactUrl } from '../../shared/redact.js';
import { encodeSiteStatus } from '../../shared/contract/envelopes.js';
import { READING_SCHEMA_VERSION } from '../../shared/reading.js';
import type { Backlog, BatchDelivery, OutgoingBatch } from './delivery.js';
import { GuardedSocket, openBrokerSocket } from './guarded-socket.js';
import { type LinkFailure, linkFailure } from './link-failure.js';
import { PacketSizeGuard } from './packet-size-guard.js';
import type { RepeatedWarnings } from '../../shared/repeated-warnings.js';
import type { CommandLink, LinkState, TransportOptions, UplinkTransport } from './transport.js';

/** CONNACK codes for an unsupported protocol: 1 from an MQTT 3.1.1 broker, 0x84 from an MQTT 5 one. */
const PROTOCOL_REFUSED = new Set([1, 0x84]);
/** The retained status is renewed this often while connected, so the cloud's view of the backlog stays fresh. */
const STATUS_EVERY_MS = 60_000;
const OFFLINE = encodeSiteStatus({ v: READING_SCHEMA_VERSION, state: 'offline' });

/**
 * The uplink over MQTT: batches go on the site's readings topic, acks come on its acks topic
 * (and only there), a retained status on its status topic (online with the backlog, renewed every
 * minute; offline), with the last will saying offline when the link dies without a goodbye. Every byte from the broker passes the
 * packet-size guard before mqtt.js buffers it.
 */
export class MqttTransport implements UplinkTransport {
  private client: MqttClient | undefined;
  private state: LinkState = 'connecting';
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempts = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  private oversized = 0;
  private failure: LinkFailure | undefined;
  /** Oversized PUBLISHes replaced by empty ones, not yet seen by the message handler: counted already. */
  private emptiedPending = 0;
  private readonly url: URL;
  private readonly acksTopic: string;
  private readonly commandsTopic: string;

  constructor(
    private readonly options: TransportOptions,
    private readonly delivery: BatchDelivery,
    private readonly log: Logger,
    private readonly warnings: RepeatedWarnings,
    private readonly backlog: () => Backlog,
    private readonly commands?: CommandLink,
  ) {
    this.url = new URL(options.url);
    this.acksTopic = siteTopic(options.siteId, 'acks');
    this.commandsTopic = siteTopic(options.siteId, 'commands');
  }

  start(): void {
    const client = new MqttClient((built: MqttClient) => this.openStream(built), this.clientOptions());
    this.client = client;
    // Handlers go on before the session resumes, or queued acks are PUBACKed and lost to us.
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(client, err));
  }

  send(batch: OutgoingBatch): void {
    this.client?.publish(siteTopic(this.options.siteId, 'readings'), batch.payload, { qos: 1 });
  }

  linkState(): LinkState {
    return this.state;
  }

  lastFailure(): LinkFailure | undefined {
    return this.failure;
  }

  counters(): Record<string, number> {
    return { oversizedPackets: this.oversized };
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    clearTimeout(this.reconnectTimer);
    clearInterval(this.statusTimer);
    const client = this.client;
    if (client === undefined) return;
    if (client.connected) {
      // A half-open link never answers: the will says `offline` for us if this does not get through.
      const published = client.publishAsync(this.statusTopic(), OFFLINE, { qos: 1, retain: true }).catch(() => undefined);
      await Promise.race([published, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    }
    await client.endAsync(true);
  }

  /** Called by mqtt.js for every connection attempt: the socket, behind a guard that knows this attempt's protocol version. */
  private openStream(client: MqttClient): GuardedSocket {
    this.emptiedPending = 0;
    const guard = new PacketSizeGuard(this.options.maxIncomingBytes, client.options.protocolVersion ?? 4, (packet) => {
      this.oversized += 1;
      this.emptiedPending += 1;
      this.warnings.warn(
        'oversized-packet',
        { siteId: this.options.siteId, topic: packet.topic, bytes: packet.bytes, limit: this.options.maxIncomingBytes, oversized: this.oversized },
        'oversized packet from the broker dropped unread (acknowledged so the broker forgets it)',
      );
    });
    const port = Number(this.url.port) || (this.url.protocol === 'mqtts:' ? 8883 : 1883);
    return new GuardedSocket(openBrokerSocket({ protocol: this.url.protocol, host: this.url.hostname.replace(/^\[|\]$/g, ''), port, ...this.options.tls }), guard);
  }

  private clientOptions(): IClientOptions {
    const { siteId, protocolVersion, maxIncomingBytes } = this.options;
    return {
      clientId: siteClientId(siteId, this.options.password),
      // A persistent session keeps the acks subscription while the link is down.
      clean: false,
      protocolVersion,
      ...(protocolVersion === 5 && { properties: { sessionExpiryInterval: 7 * 24 * 3600, maximumPacketSize: maxIncomingBytes } }),
      // Reconnects are ours, with backoff and jitter, so a hundred sites do not return in step.
      reconnectPeriod: 0,
      // mqtt-packet otherwise pre-builds a Buffer for each of the 65,536 two-byte numbers on the
      // first write: 6 MB of heap, 7 % of the edge's memory on a Pi, to save a 2-byte allocation.
      writeCache: false,
      connectTimeout: 15_000,
      username: this.options.username,
      password: this.options.password,
      will: { topic: this.statusTopic(), payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    };
  }

  private statusTopic(): string {
    return siteTopic(this.options.siteId, 'status');
  }

  private onConnect(client: MqttClient): void {
    this.state = 'connected';
    this.failure = undefined;
    this.reconnectAttempts = 0;
    this.log.info({ siteId: this.options.siteId, url: redactUrl(this.options.url), protocolVersion: client.options.protocolVersion }, 'uplink connected');
    const topics = this.commands === undefined ? [this.acksTopic] : [this.acksTopic, this.commandsTopic];
    client.subscribe(topics, { qos: 1 }, (err, granted) => {
      // The session keeps these while the link is down; from the first grant on, nothing sent to them is lost.
      if (err === null) this.log.info({ siteId: this.options.siteId, topics: granted?.map((g) => `${g.topic} (qos ${g.qos})`) }, 'uplink subscribed');
    });
    this.publishStatus(client);
    clearInterval(this.statusTimer);
    this.statusTimer = setInterval(() => this.publishStatus(client), STATUS_EVERY_MS);
    this.statusTimer.unref();
    const resultsTopic = siteTopic(this.options.siteId, 'command-results');
    this.commands?.linkUp((payload, done) => client.publish(resultsTopic, payload, { qos: 1 }, (err) => done(err ?? undefined)));
    // A batch in flight needs no send here: mqtt.js replays a publish the broker never PUBACKed,
    // and one it did PUBACK goes again when its ack times out. Sending it here as well put two
    // copies into Kafka after every reconnect.
    this.delivery.linkIsUp();
  }

  /**
   * A broker that speaks only MQTT 3.1.1 refuses a version 5 CONNECT ("unacceptable protocol
   * version"): the next connect, with the usual backoff, and every one after it use 3.1.1.
   */
  private onError(client: MqttClient, err: Error & { code?: unknown }): void {
    const { siteId } = this.options;
    const url = redactUrl(this.options.url);
    if (client.options.protocolVersion === 5 && PROTOCOL_REFUSED.has(Number(err.code))) {
      client.options.protocolVersion = 4;
      delete client.options.properties;
      this.log.warn({ siteId, url, err }, 'broker refused MQTT 5: falling back to MQTT 3.1.1');
      return;
    }
    this.failure = linkFailure(err);
    const kind = typeof err.code === 'string' || typeof err.code === 'number' ? String(err.code) : err.message;
    this.warnings.warn(`uplink-error-${kind}`, { siteId, url, err }, 'uplink error');
  }

  /** Online, with what is waiting: the cloud shows a site's backlog before its batches arrive. */
  private publishStatus(client: MqttClient): void {
    if (!client.connected) return;
    let backlog: Backlog;
    try {
      backlog = this.backlog();
    } catch (err) {
      this.warnings.warn('status-backlog', { siteId: this.options.siteId, err }, 'backlog for the status message could not be read');
      return;
    }
    const report = encodeSiteStatus({
      v: READING_SCHEMA_VERSION,
      state: 'online',
      backlog: backlog.backlog,
      ...(backlog.oldestUnsentAt !== undefined && { oldestUnsentAt: new Date(backlog.oldestUnsentAt).toISOString() }),
    });
    client.publish(this.statusTopic(), report, { qos: 1, retain: true });
  }

  private onClose(): void {
    clearInterval(this.statusTimer);
    this.delivery.linkIsDown();
    this.commands?.linkDown();
    if (this.state === 'stopped') return;
    if (this.state === 'connected') {
      this.log.warn({ siteId: this.options.siteId }, 'uplink disconnected');
      // The broker closed the link without an error; the reconnects that follow say more if they fail.
      this.failure ??= linkFailure(new Error('the broker closed the connection'), 'closed');
    }
    this.state = 'disconnected';
    clearTimeout(this.reconnectTimer);
    const delay = this.reconnectDelay();
    this.reconnectTimer = setTimeout(() => {
      this.state = 'connecting';
      this.client?.reconnect();
    }, delay);
    this.log.debug({ siteId: this.options.siteId, delayMs: delay, attempt: this.reconnectAttempts }, 'uplink reconnect scheduled');
  }

  /** Exponential backoff with full jitter between half and all of the step. */
  private reconnectDelay(): number {
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const step = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** this.reconnectAttempts);
    this.reconnectAttempts += 1;
    return Math.round(step / 2 + (Math.random() * step) / 2);
  }

  /** Only the site's acks topic carries acks, only its commands topic commands; whatever else a session delivers is counted and dropped. */
  private onMessage(topic: string, payload: Buffer): void {
    if (payload.length === 0 && this.emptiedPending > 0) {
      // The guard's stand-in for an oversized PUBLISH (they arrive in order), counted there already.
      this.emptiedPending -= 1;
      return;
    }
    if (this.commands !== undefined && topic === this.commandsTopic) {
      this.commands.offer(payload);
      return;
    }
    if (topic !== this.acksTopic) {
      this.delivery.reject('wrongTopic', { topic, bytes: payload.length }, 'message on a topic other than the site\'s acks topic ignored');
      return;
    }
    this.delivery.offerAck(payload, { topic });
  }
}
