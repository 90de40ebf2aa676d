import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { parseBatchAck } from '../../shared/reading-schema.js';
import { READING_SCHEMA_VERSION, acksTopic, readingsTopic, type BatchAck } from '../../shared/reading.js';

/** What the uplink needs of the store: the oldest unsent readings, and a way to let them go. */
export interface OutboxPort {
  oldest(maxCount: number, maxBytes: number): { firstSeq: number; lastSeq: number; payloads: string[] } | undefined;
  acknowledge(lastSeq: number): number;
}

export interface UplinkOptions {
  url: string;
  protocolVersion: 4 | 5;
  siteId: string;
  username?: string | undefined;
  password?: string | undefined;
  batchMaxReadings: number;
  batchMaxBytes: number;
  /** How long to wait for the cloud's acknowledgement before the same batch goes again. */
  ackTimeoutMs: number;
}

interface InFlight {
  batchId: string;
  lastSeq: number;
  payload: string;
  count: number;
  sentAt: number;
  attempts: number;
}

export interface UplinkStatus {
  connected: boolean;
  batchesAcknowledged: number;
  readingsAcknowledged: number;
  resends: number;
  inFlight: { batchId: string; attempts: number } | undefined;
}

/**
 * Sends the outbox to the cloud one batch at a time. The next batch leaves only after the cloud
 * acknowledged the previous one on the site's acks topic, which it does only once Kafka holds the
 * batch; a broker PUBACK proves nothing. Without an acknowledgement the same batch goes again.
 */
export class MqttUplink {
  private client: MqttClient | undefined;
  private inFlight: InFlight | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly counters = { batchesAcknowledged: 0, readingsAcknowledged: 0, resends: 0 };

  constructor(
    private readonly options: UplinkOptions,
    private readonly outbox: OutboxPort,
    private readonly log: Logger,
  ) {}

  start(): void {
    const { siteId } = this.options;
    const statusTopic = `echolake/v1/sites/${siteId}/status`;
    const clientOptions: IClientOptions = {
      clientId: `echolake-edge-${siteId}`,
      // A persistent session keeps the acks subscription while the link is down.
      clean: false,
      protocolVersion: this.options.protocolVersion,
      ...(this.options.protocolVersion === 5 && { properties: { sessionExpiryInterval: 24 * 3600 } }),
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      username: this.options.username,
      password: this.options.password,
      will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
    };
    const client = connect(this.options.url, clientOptions);
    this.client = client;
    // Handlers go on before the session resumes, or queued acks are PUBACKed and lost to us.
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('connect', () => {
      this.log.info({ siteId, url: this.options.url }, 'uplink connected');
      client.subscribe(acksTopic(siteId), { qos: 1 });
      client.publish(statusTopic, 'online', { qos: 1, retain: true });
      this.resendInFlight();
      this.pump();
    });
    client.on('close', () => this.log.debug({ siteId }, 'uplink connection closed'));
    client.on('error', (err) => this.log.warn({ siteId, err: err.message }, 'uplink error'));
  }

  /** New readings are in the outbox: send them if nothing is in flight. */
  notify(): void {
    this.pump();
  }

  status(): UplinkStatus {
    const inFlight = this.inFlight && { batchId: this.inFlight.batchId, attempts: this.inFlight.attempts };
    return { connected: this.client?.connected ?? false, ...this.counters, inFlight };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.ackTimer);
    const client = this.client;
    if (client === undefined) return;
    await client.publishAsync(`echolake/v1/sites/${this.options.siteId}/status`, 'offline', { qos: 1, retain: true })
      .catch(() => undefined);
    await client.endAsync();
  }

  private pump(): void {
    if (this.stopped || this.inFlight !== undefined || this.client?.connected !== true) return;
    const pending = this.outbox.oldest(this.options.batchMaxReadings, this.options.batchMaxBytes);
    if (pending === undefined) return;
    const batchId = `${pending.firstSeq}-${pending.lastSeq}`;
    this.inFlight = {
      batchId,
      lastSeq: pending.lastSeq,
      // The stored JSON goes out as it is: no parse and re-serialise per reading.
      payload: `{"v":${READING_SCHEMA_VERSION},"siteId":${JSON.stringify(this.options.siteId)},"batchId":"${batchId}","readings":[${pending.payloads.join(',')}]}`,
      count: pending.payloads.length,
      sentAt: 0,
      attempts: 0,
    };
    this.send();
  }

  private send(): void {
    const batch = this.inFlight;
    const client = this.client;
    if (batch === undefined || client === undefined) return;
    batch.attempts += 1;
    batch.sentAt = Date.now();
    this.log.debug({ siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, attempt: batch.attempts }, 'batch sent');
    client.publish(readingsTopic(this.options.siteId), batch.payload, { qos: 1 });
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => this.onAckTimeout(), this.options.ackTimeoutMs);
  }

  private onAckTimeout(): void {
    const batch = this.inFlight;
    if (batch === undefined || this.stopped) return;
    this.counters.resends += 1;
    this.log.warn({ siteId: this.options.siteId, batchId: batch.batchId, attempts: batch.attempts }, 'no acknowledgement; sending the batch again');
    if (this.client?.connected === true) this.send();
  }

  private resendInFlight(): void {
    if (this.inFlight !== undefined) this.send();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== acksTopic(this.options.siteId)) return;
    const parsed = parseBatchAck(payload);
    if (!parsed.ok) {
      this.log.warn({ siteId: this.options.siteId, error: parsed.error }, 'malformed acknowledgement ignored');
      return;
    }
    this.onAck(parsed.value);
  }

  private onAck(ack: BatchAck): void {
    const batch = this.inFlight;
    // An ack for an earlier copy of a resent batch, or for another batch, changes nothing.
    if (batch === undefined || ack.batchId !== batch.batchId) return;
    clearTimeout(this.ackTimer);
    const removed = this.outbox.acknowledge(Math.min(ack.lastSeq, batch.lastSeq));
    this.counters.batchesAcknowledged += 1;
    this.counters.readingsAcknowledged += removed;
    this.log.info(
      { siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, roundTripMs: Date.now() - batch.sentAt },
      'batch acknowledged by the cloud',
    );
    this.inFlight = undefined;
    this.pump();
  }
}
