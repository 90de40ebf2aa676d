import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { encodeAck, parseSiteStatus } from '../../shared/contract/envelopes.js';
import { everySiteFilter, parseSiteTopic, sharedFilter, siteTopic } from '../../shared/contract/topics.js';
import type { Logger } from '../../shared/log.js';
import { redactUrl } from '../../shared/redact.js';
import type { BatchAck } from '../../shared/reading.js';
import type { SiteStatusBoard } from '../sites/status-board.js';
import type { MqttConfig } from './config.js';
import type { IngestCore } from './core.js';
import { type CloudMqttCredentials, cloudMqttClientOptions } from './mqtt-client-options.js';

const INGEST_SESSION_EXPIRY_S = 600;

export interface MqttIngestOptions {
  mqtt: MqttConfig;
  /** The cloud's own credentials and its unguessable client id. */
  credentials: CloudMqttCredentials;
  maxInFlightBatches: number;
}

/**
 * The MQTT adapter of the ingest: takes batches from `echolake/v1/sites/+/readings`, hands them
 * to the core, and publishes the ack the core decides on. The broker's ACL makes the topic's site
 * the publisher (the embedded broker and the generated Mosquitto ACL both do).
 *
 * Up to `maxInFlightBatches` batches are handled at once; beyond that the next message is not
 * taken from the connection, so the broker holds the rest (backpressure, no memory growth here).
 * A batch's PUBACK goes when it is taken, not when Kafka has it: mqtt.js hands over messages one
 * by one, so holding each PUBACK would make the ingest one batch at a time. Nothing is lost by it:
 * the site deletes readings only on our ack, which is published after Kafka acknowledged them,
 * and resends the same batch when the ack does not come.
 */
export class MqttIngest {
  private client: MqttClient | undefined;
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private readonly idle: Array<() => void> = [];

  constructor(
    private readonly options: MqttIngestOptions,
    private readonly core: IngestCore,
    private readonly status: SiteStatusBoard,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async start(): Promise<void> {
    const { mqtt } = this.options;
    const client = connect(mqtt.url, this.clientOptions());
    this.client = client;
    // Set before the session resumes: queued batches must go through the window like any other.
    client.handleMessage = (packet, done) => this.take(packet, done);
    client.on('error', (err) => this.log.warn({ err, url: redactUrl(mqtt.url) }, 'ingest mqtt error'));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('connect', () => this.log.info({ url: redactUrl(mqtt.url) }, 'ingest reconnected'));
    const filters = [everySiteFilter('readings'), everySiteFilter('status')].map((filter) => sharedFilter(mqtt.sharedGroup, filter));
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    const refused = granted.filter((grant) => grant.qos === 128);
    if (refused.length > 0) throw new Error(`the broker refused the ingest's subscriptions ${refused.map((g) => g.topic).join(', ')}: check the cloud user's ACL`);
    this.log.info({ url: redactUrl(mqtt.url), filters, clientId: this.options.credentials.clientId }, 'ingest subscribed');
  }

  /** Waits for batches being handled (their acks go out), then leaves; unacked batches come again. */
  async stop(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.client?.endAsync(true);
  }

  private clientOptions(): IClientOptions {
    const { mqtt, credentials } = this.options;
    // Long enough to ride out a restart; short, so the session of an instance gone for good stops
    // taking its share of the group's batches (sites resend those after their ack timeout).
    return cloudMqttClientOptions(mqtt, credentials, { clientId: credentials.clientId, expirySeconds: INGEST_SESSION_EXPIRY_S });
  }

  private take(packet: IPublishPacket, done: (error?: Error) => void): void {
    const topic = parseSiteTopic(packet.topic);
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (topic?.channel === 'status') {
      this.onStatus(topic.siteId, payload);
      done();
      return;
    }
    if (topic?.channel !== 'readings') {
      done();
      return;
    }
    this.inFlight += 1;
    void this.core
      .accept(topic.siteId, payload, { transport: 'mqtt', channel: packet.topic })
      .then((outcome) => {
        if (outcome.kind === 'ack') this.acknowledge(outcome.ack);
        else if (outcome.kind === 'dead-letter' && outcome.ack !== undefined) this.acknowledge(outcome.ack);
      })
      .catch((err: unknown) => this.log.error({ siteId: topic.siteId, err }, 'ingest failed on a batch; the site will resend it'))
      .finally(() => this.release());
    if (this.inFlight < this.options.maxInFlightBatches) done();
    else this.slotWaiters.push(() => done());
  }

  private release(): void {
    this.inFlight -= 1;
    this.slotWaiters.shift()?.();
    if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** The edge's retained status: online with its backlog, or offline (its will). */
  private onStatus(siteId: string, payload: Buffer): void {
    const report = parseSiteStatus(payload);
    if (report === undefined) {
      this.log.debug({ siteId, bytes: payload.length }, 'status message outside the contract ignored');
      return;
    }
    const { state, backlog, oldestUnsentAt } = report;
    this.status.reported(siteId, { state, at: Date.now(), ...(backlog !== undefined && { backlog }), ...(oldestUnsentAt !== undefined && { oldestUnsentAt }) });
  }

  /**
   * Not awaited: the ack's PUBACK is an incoming packet, which waits while a message is being
   * taken. Should the ack be lost, the site resends the batch and the lake drops the copy.
   */
  private acknowledge(ack: BatchAck): void {
    this.client?.publish(siteTopic(ack.siteId, 'acks'), encodeAck(ack), { qos: 1 }, (err) => {
      if (err) this.log.warn({ siteId: ack.siteId, batchId: ack.batchId, err }, 'ack publish failed; the site will resend');
    });
  }
}
