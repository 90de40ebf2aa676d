import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { parseBatchAck } from '../../shared/reading-schema.js';
import { batchIdOf, encodeBatch } from '../../shared/contract/envelopes.js';
import { siteTopic } from '../../shared/contract/topics.js';
import type { BatchAck } from '../../shared/reading.js';

interface SeqRange {
  firstSeq: number;
  lastSeq: number;
}

interface StoredBatch extends SeqRange {
  payloads: string[];
  oldestAt: number;
  /** The count or byte bound was reached: waiting would not make it bigger. */
  full: boolean;
}

/**
 * What the uplink needs of the store: the oldest unsent readings, the batch in flight (which
 * outlives a restart), and a way to mark readings delivered.
 */
export interface OutboxPort {
  oldestUnsent(maxCount: number, maxBytes: number): StoredBatch | undefined;
  inFlight(): SeqRange | undefined;
  markInFlight(range: SeqRange): void;
  readRange(range: SeqRange): StoredBatch | undefined;
  acknowledge(lastSeq: number): number;
}

export interface UplinkTls {
  /** PEM file of the CA that signed the broker's certificate. */
  caFile?: string | undefined;
  /** PEM files of this site's client certificate and key, where the broker wants one. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

export interface UplinkOptions {
  url: string;
  protocolVersion: 4 | 5;
  siteId: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: UplinkTls | undefined;
  batchMaxReadings: number;
  batchMaxBytes: number;
  /** A batch that is not full waits at most this long after its oldest reading before it goes. */
  batchMaxAgeMs: number;
  /** How long to wait for the cloud's acknowledgement before the same batch goes again. */
  ackTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

interface InFlight {
  batchId: string;
  lastSeq: number;
  payload: string;
  count: number;
  sentAt: number;
  attempts: number;
}

/** How long the uplink waits before it asks a failing store for the next batch again. */
const STORE_RETRY_MS = 5_000;

/** CONNACK codes for an unsupported protocol: 1 from an MQTT 3.1.1 broker, 0x84 from an MQTT 5 one. */
const PROTOCOL_REFUSED = new Set([1, 0x84]);

export type UplinkState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface UplinkStatus {
  state: UplinkState;
  batchesAcknowledged: number;
  readingsAcknowledged: number;
  resends: number;
  lastAckAt: string | undefined;
  inFlight: { batchId: string; attempts: number } | undefined;
}

/**
 * Sends the store's unsent readings to the cloud one batch at a time. The next batch leaves only
 * after the cloud acknowledged the previous one on the site's acks topic, which it does only once
 * Kafka holds the batch; a broker PUBACK proves nothing. Without an acknowledgement the same
 * batch, with the same seqs, goes again. So a site's readings arrive in order, and a duplicate is
 * always a whole resent batch, which the lake drops.
 */
export class MqttUplink {
  private client: MqttClient | undefined;
  private state: UplinkState = 'connecting';
  private inFlight: InFlight | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  /** A later look at the outbox: a young batch lingering for more readings, or a store that failed. */
  private pumpTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectAttempts = 0;
  private lastAckAt: string | undefined;
  private readonly counters = { batchesAcknowledged: 0, readingsAcknowledged: 0, resends: 0 };

  constructor(
    private readonly options: UplinkOptions,
    private readonly outbox: OutboxPort,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.options.password !== undefined && this.options.url.startsWith('mqtt://')) {
      this.log.warn({ siteId: this.options.siteId, url: this.options.url }, 'the site password goes over plain MQTT: use mqtts:// unless the network to the broker is trusted');
    }
    const client = connect(this.options.url, this.clientOptions());
    this.client = client;
    // Handlers go on before the session resumes, or queued acks are PUBACKed and lost to us.
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(client, err));
  }

  /** New readings are in the store: send them if nothing is in flight. */
  notify(): void {
    this.pump();
  }

  status(): UplinkStatus {
    const inFlight = this.inFlight && { batchId: this.inFlight.batchId, attempts: this.inFlight.attempts };
    return { state: this.state, ...this.counters, lastAckAt: this.lastAckAt, inFlight };
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    for (const timer of [this.ackTimer, this.pumpTimer, this.reconnectTimer]) clearTimeout(timer);
    const client = this.client;
    if (client === undefined) return;
    if (client.connected) {
      // A half-open link never answers: the will says `offline` for us if this does not get through.
      const published = client.publishAsync(this.statusTopic(), 'offline', { qos: 1, retain: true }).catch(() => undefined);
      await Promise.race([published, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    }
    await client.endAsync(true);
  }

  private clientOptions(): IClientOptions {
    const { siteId, protocolVersion, tls } = this.options;
    return {
      clientId: `echolake-edge-${siteId}`,
      // A persistent session keeps the acks subscription while the link is down.
      clean: false,
      protocolVersion,
      ...(protocolVersion === 5 && { properties: { sessionExpiryInterval: 7 * 24 * 3600 } }),
      // Reconnects are ours, with backoff and jitter, so a hundred sites do not return in step.
      reconnectPeriod: 0,
      // mqtt-packet otherwise pre-builds a Buffer for each of the 65,536 two-byte numbers on the
      // first write: 6 MB of heap, 7 % of the edge's memory on a Pi, to save a 2-byte allocation.
      writeCache: false,
      connectTimeout: 15_000,
      username: this.options.username,
      password: this.options.password,
      will: { topic: this.statusTopic(), payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(tls?.caFile !== undefined && { ca: readFileSync(tls.caFile) }),
      ...(tls?.certFile !== undefined && { cert: readFileSync(tls.certFile) }),
      ...(tls?.keyFile !== undefined && { key: readFileSync(tls.keyFile) }),
      rejectUnauthorized: true,
    };
  }

  private statusTopic(): string {
    return siteTopic(this.options.siteId, 'status');
  }

  private onConnect(client: MqttClient): void {
    this.state = 'connected';
    this.reconnectAttempts = 0;
    this.log.info({ siteId: this.options.siteId, url: this.options.url }, 'uplink connected');
    client.subscribe(siteTopic(this.options.siteId, 'acks'), { qos: 1 });
    client.publish(this.statusTopic(), 'online', { qos: 1, retain: true });
    // A batch in flight needs no send here: mqtt.js replays a publish the broker never PUBACKed,
    // and one it did PUBACK goes again when its ack times out. Sending it here as well put two
    // copies into Kafka after every reconnect.
    if (this.inFlight !== undefined) this.armAckTimer();
    else this.pump();
  }

  /**
   * A broker that speaks only MQTT 3.1.1 refuses a version 5 CONNECT ("unacceptable protocol
   * version"): the next connect, with the usual backoff, and every one after it use 3.1.1.
   */
  private onError(client: MqttClient, err: Error & { code?: unknown }): void {
    const { siteId, url } = this.options;
    if (client.options.protocolVersion === 5 && PROTOCOL_REFUSED.has(Number(err.code))) {
      client.options.protocolVersion = 4;
      delete client.options.properties;
      this.log.warn({ siteId, url, err: err.message }, 'broker refused MQTT 5: falling back to MQTT 3.1.1');
      return;
    }
    this.log.warn({ siteId, err: err.message }, 'uplink error');
  }

  private onClose(): void {
    if (this.state === 'stopped') return;
    if (this.state === 'connected') this.log.warn({ siteId: this.options.siteId }, 'uplink disconnected');
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

  private pump(): void {
    if (this.state !== 'connected' || this.inFlight !== undefined) return;
    let pending: StoredBatch | undefined;
    try {
      pending = this.nextBatch();
    } catch (err) {
      this.retryAfterStoreFailure('reading the next batch', err);
      return;
    }
    if (pending === undefined) return;
    const batchId = batchIdOf(pending.firstSeq, pending.lastSeq);
    this.inFlight = {
      batchId,
      lastSeq: pending.lastSeq,
      payload: encodeBatch(this.options.siteId, batchId, pending.payloads),
      count: pending.payloads.length,
      sentAt: 0,
      attempts: 0,
    };
    this.send();
  }

  /**
   * The store failed under the uplink (a full disk, an I/O error): nothing was sent or marked, so
   * nothing is lost; the same step is tried again later rather than the process crashing in an
   * MQTT handler. The watchdog's health check, which follows the store's commits, decides about
   * restarts.
   */
  private retryAfterStoreFailure(step: string, err: unknown): void {
    this.log.error({ siteId: this.options.siteId, err: (err as Error).message, step }, 'reading store failed under the uplink; will retry');
    this.pumpLater(STORE_RETRY_MS);
  }

  /** The batch a restart interrupted, exactly as it was; otherwise the oldest unsent readings once the batch is full or old enough. */
  private nextBatch(): StoredBatch | undefined {
    const interrupted = this.outbox.inFlight();
    const resumed = interrupted && this.outbox.readRange(interrupted);
    if (resumed !== undefined) return resumed;
    const pending = this.outbox.oldestUnsent(this.options.batchMaxReadings, this.options.batchMaxBytes);
    if (pending === undefined) return undefined;
    // Clamped: a clock stepped back must not hold a batch for longer than its age limit.
    const waitMs = Math.min(this.options.batchMaxAgeMs, pending.oldestAt + this.options.batchMaxAgeMs - Date.now());
    if (!pending.full && waitMs > 0) {
      // Not full and young: let more readings join it rather than send a trickle of small messages.
      this.pumpLater(waitMs);
      return undefined;
    }
    this.outbox.markInFlight(pending);
    return pending;
  }

  /** Pumps after `delayMs`, unless a pump is due already. */
  private pumpLater(delayMs: number): void {
    this.pumpTimer ??= setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, delayMs);
  }

  private send(): void {
    const batch = this.inFlight;
    const client = this.client;
    if (batch === undefined || client === undefined) return;
    batch.attempts += 1;
    batch.sentAt = Date.now();
    this.log.debug({ siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, attempt: batch.attempts }, 'batch sent');
    client.publish(siteTopic(this.options.siteId, 'readings'), batch.payload, { qos: 1 });
    this.armAckTimer();
  }

  private armAckTimer(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = setTimeout(() => this.onAckTimeout(), this.options.ackTimeoutMs);
  }

  private onAckTimeout(): void {
    const batch = this.inFlight;
    if (batch === undefined || this.state !== 'connected') return;
    this.counters.resends += 1;
    this.log.warn({ siteId: this.options.siteId, batchId: batch.batchId, attempts: batch.attempts }, 'no acknowledgement; sending the batch again');
    this.send();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic !== siteTopic(this.options.siteId, 'acks')) return;
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
    if (ack.lastSeq !== batch.lastSeq) {
      // The cloud handled this batch (in Kafka or, unreadable, in the dead-letter topic) and could
      // not tell all of its seqs. The batch is done as a whole: taking part of it back into the
      // outbox would send its tail again under another batch id.
      this.log.warn({ siteId: this.options.siteId, batchId: batch.batchId, ackLastSeq: ack.lastSeq }, 'acknowledgement names another last seq; the whole batch counts as delivered');
    }
    let covered: number;
    try {
      covered = this.outbox.acknowledge(batch.lastSeq);
    } catch (err) {
      // Still in flight: the ack timeout sends it again, and the cloud's next ack retries this.
      this.log.error({ siteId: this.options.siteId, batchId: batch.batchId, err: (err as Error).message }, 'reading store failed to record an acknowledgement; the batch stays in flight');
      return;
    }
    clearTimeout(this.ackTimer);
    this.counters.batchesAcknowledged += 1;
    this.counters.readingsAcknowledged += covered;
    this.lastAckAt = new Date().toISOString();
    this.log.info(
      { siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, attempts: batch.attempts, roundTripMs: Date.now() - batch.sentAt },
      'batch acknowledged by the cloud',
    );
    this.inFlight = undefined;
    this.pump();
  }
}
