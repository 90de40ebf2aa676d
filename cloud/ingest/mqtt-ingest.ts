import { connect, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../../shared/log.js';
import { parseReadingBatch } from '../../shared/reading-schema.js';
import { ackFor, encodeAck } from '../../shared/contract/envelopes.js';
import { everySiteFilter, parseSiteTopic, sharedFilter, siteTopic } from '../../shared/contract/topics.js';
import { READING_SCHEMA_VERSION, type BatchAck, type ReadingBatch } from '../../shared/reading.js';
import type { Placement, ReadingSink } from './kafka-readings-sink.js';

const INGEST_SESSION_EXPIRY_S = 600;

export interface IngestOptions {
  url: string;
  clientId: string;
  protocolVersion: 4 | 5;
  /** Instances sharing one group split the sites between them (`$share/<group>/…`); empty for a plain subscription. */
  sharedGroup: string;
  username?: string | undefined;
  password?: string | undefined;
}


/**
 * Takes reading batches from MQTT, writes them to Kafka and only then acknowledges them to the
 * site. The MQTT PUBACK is held until the batch is handled, so a crash before that leaves the
 * message with the broker; a crash after the Kafka write but before the site's ack makes the
 * site resend the same batch, and the lake drops the copy (each site's seqs only grow).
 */
export class MqttIngest {
  private client: MqttClient | undefined;

  constructor(
    private readonly options: IngestOptions,
    private readonly sink: ReadingSink,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const client = connect(this.options.url, {
      clientId: this.options.clientId,
      clean: false,
      protocolVersion: this.options.protocolVersion,
      // Long enough to ride out a restart or a deploy; short, so the session of an instance that is
      // gone for good stops taking its share of the group's batches (sites resend those after
      // their ack timeout, so nothing is lost, only late).
      ...(this.options.protocolVersion === 5 && { properties: { sessionExpiryInterval: INGEST_SESSION_EXPIRY_S } }),
      reconnectPeriod: 2000,
      username: this.options.username,
      password: this.options.password,
    });
    this.client = client;
    // Set before the session resumes: queued batches must wait for Kafka before their PUBACK.
    client.handleMessage = (packet, done) => {
      this.handle(packet).then(() => done(), (err: unknown) => done(err as Error));
    };
    client.on('error', (err) => this.log.warn({ err: err.message }, 'ingest mqtt error'));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    client.on('connect', () => this.log.info({ url: this.options.url }, 'ingest reconnected'));
    const filter = sharedFilter(this.options.sharedGroup, everySiteFilter('readings'));
    await client.subscribeAsync(filter, { qos: 1 });
    this.log.info({ url: this.options.url, filter }, 'ingest subscribed');
  }

  /** Forced: with the broker gone a graceful end would wait for it forever; unacked batches come again. */
  async stop(): Promise<void> {
    await this.client?.endAsync(true);
  }

  private async handle(packet: IPublishPacket): Promise<void> {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const topic = parseSiteTopic(packet.topic);
    if (topic?.channel !== 'readings') return;
    const topicSite = topic.siteId;
    const parsed = parseReadingBatch(payload);
    if (!parsed.ok) return this.reject(topicSite, packet.topic, payload, parsed.error);
    const batch = parsed.value;
    // A site may only speak for itself: the broker authenticates the topic, not the payload.
    if (batch.siteId !== topicSite) {
      return this.reject(topicSite, packet.topic, payload, `batch claims site ${batch.siteId} on the topic of site ${topicSite}`);
    }
    await this.accept(batch);
  }

  private async accept(batch: ReadingBatch): Promise<void> {
    const first = batch.readings[0];
    const last = batch.readings[batch.readings.length - 1];
    if (first === undefined || last === undefined) return;
    let placed: Placement;
    try {
      placed = await this.sink.writeBatch(batch);
    } catch (err) {
      // No ack: the site sends the same batch again after its timeout.
      this.log.error({ siteId: batch.siteId, batchId: batch.batchId, err: (err as Error).message }, 'kafka write failed; batch left for the site to resend');
      return;
    }
    this.acknowledge(ackFor(batch.siteId, batch.batchId, last.seq));
    this.log.info(
      { siteId: batch.siteId, batchId: batch.batchId, firstSeq: first.seq, lastSeq: last.seq, readings: batch.readings.length, kafka: placed },
      'batch in kafka and acknowledged',
    );
  }

  /**
   * Not awaited: the ack's PUBACK is an incoming packet, and incoming packets wait while a message
   * handler runs. mqtt.js keeps the QoS 1 ack until the broker has it; should it still be lost,
   * the site resends the batch and the lake drops the copy.
   */
  private acknowledge(ack: BatchAck): void {
    this.client?.publish(siteTopic(ack.siteId, 'acks'), encodeAck(ack), { qos: 1 }, (err) => {
      if (err) this.log.warn({ siteId: ack.siteId, batchId: ack.batchId, err: err.message }, 'ack publish failed; the site will resend');
    });
  }

  /**
   * A batch that cannot be read goes to the dead-letter topic and is counted. Once it is safe
   * there, the site gets its ack when the batch says which seqs it held: resending a batch that
   * will never parse would stall the site's outbox for good.
   */
  private async reject(siteId: string, topic: string, payload: Buffer, reason: string): Promise<void> {
    this.log.warn({ siteId, topic, bytes: payload.length, reason }, 'batch rejected to the dead-letter topic');
    await this.sink.writeDeadLetter(topic, payload, reason);
    if (speaksNewerContract(payload)) {
      // A gateway updated before the cloud: keep its readings on the site until the cloud reads them.
      this.log.warn({ siteId, topic }, 'batch from a newer contract version left unacknowledged; the site keeps it');
      return;
    }
    const ack = ackForUnreadableBatch(siteId, payload);
    if (ack !== undefined) this.acknowledge(ack);
  }
}

/** The batch id and highest seq of a batch that failed validation, where they can be told at all. */
function ackForUnreadableBatch(siteId: string, payload: Buffer): BatchAck | undefined {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch {
    return undefined;
  }
  const candidate = json as { batchId?: unknown; readings?: unknown };
  if (typeof candidate.batchId !== 'string' || !Array.isArray(candidate.readings)) return undefined;
  let lastSeq = 0;
  for (const reading of candidate.readings as Array<{ seq?: unknown } | null>) {
    const seq = reading?.seq;
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq > lastSeq) lastSeq = seq;
  }
  if (lastSeq === 0) return undefined;
  return ackFor(siteId, candidate.batchId.slice(0, 64), lastSeq);
}

/** Whether the batch, or any reading in it, says it follows a later contract than this cloud reads. */
function speaksNewerContract(payload: Buffer): boolean {
  try {
    const json = JSON.parse(payload.toString()) as { v?: unknown; readings?: unknown };
    const versions = [json.v, ...(Array.isArray(json.readings) ? (json.readings as Array<{ v?: unknown } | null>).map((r) => r?.v) : [])];
    return versions.some((v) => typeof v === 'number' && v > READING_SCHEMA_VERSION);
  } catch {
    return false;
  }
}
