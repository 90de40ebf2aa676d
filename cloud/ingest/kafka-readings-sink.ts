import type { ReadingBatch } from '../../shared/reading.js';
import type { KafkaTopics } from '../kafka/client.js';
import type { KafkaProducer, Placement, ProducedRecord } from '../kafka/producer.js';

export type { Placement } from '../kafka/producer.js';

/** What the ingest could not take, with why; the payload is kept whole, in pieces where it is large. */
export interface DeadLetter {
  /** Ties the pieces of one dead letter together. */
  id: string;
  siteId: string;
  /** `mqtt:<topic>` or `https:<route>`. */
  source: string;
  reason: string;
  detail: string;
  payload: Buffer;
}

/** Where the ingest puts what it took from MQTT. */
export interface ReadingSink {
  /** Resolves only after Kafka acknowledged every reading of the batch (acks=all). */
  writeBatch(batch: ReadingBatch): Promise<Placement>;
  /** Keeps what could not be read, with the reason, so nothing a site sent is lost; resolves once Kafka has every piece. */
  writeDeadLetter(letter: DeadLetter): Promise<void>;
}

/**
 * Kafka's default limit for one record batch is about 1 MB; a site with one busy device sends a
 * whole MQTT batch to one partition, so a request stays below that whatever its partitions.
 */
const MAX_BYTES_PER_SEND = 800 * 1024;
/** Room for a record's key, headers and framing in the estimate of a request's size. */
const RECORD_OVERHEAD_BYTES = 128;

/** Records waiting for a request, and who waits for them. */
interface Pending {
  topic: string;
  records: ProducedRecord[];
  bytes: number;
  resolve(placement: Placement): void;
  reject(err: unknown): void;
}

/**
 * Readings into Kafka, keyed by deviceId so one device's readings stay ordered within a partition.
 * The value carries siteId and seq; a `batchId` header says which MQTT batch brought the reading,
 * to follow it from the site's log to the topic.
 *
 * The ingest handles many batches at once, while an idempotent producer has one request in flight.
 * So batches that arrive while a request is out wait in a queue and go together in the next one
 * (up to MAX_BYTES_PER_SEND): one produce round trip and one acks=all wait for many sites, instead
 * of one each. Requests leave in arrival order, so a device's readings keep their order. A failed
 * request fails every batch in it; each is left unacknowledged and its site resends it.
 */
export class KafkaReadingSink implements ReadingSink {
  private readonly queue: Pending[] = [];
  private sending = false;

  constructor(
    private readonly producer: KafkaProducer,
    private readonly topics: KafkaTopics,
    private readonly pieceBytes: number,
  ) {}

  connect(): Promise<void> {
    return this.producer.connect();
  }

  async writeBatch(batch: ReadingBatch): Promise<Placement> {
    const headers = { batchId: batch.batchId };
    const records = batch.readings.map((reading) => ({ key: reading.deviceId, value: JSON.stringify(reading), headers }));
    const sent = await Promise.all([...chunksBelow(records, MAX_BYTES_PER_SEND)].map((chunk) => this.enqueue(this.topics.readings, chunk)));
    return sent.flat();
  }

  /**
   * Kafka refuses a record over about 1 MB, so a large payload goes in pieces of at most
   * `pieceBytes`, each with the letter's id and its place (`part` of `parts`): a reader joins them.
   */
  async writeDeadLetter(letter: DeadLetter): Promise<void> {
    const parts = Math.max(1, Math.ceil(letter.payload.length / this.pieceBytes));
    const pieces: Array<Promise<Placement>> = [];
    for (let part = 0; part < parts; part += 1) {
      const record: ProducedRecord = {
        key: letter.siteId,
        value: letter.payload.subarray(part * this.pieceBytes, (part + 1) * this.pieceBytes),
        headers: { id: letter.id, siteId: letter.siteId, source: letter.source, reason: letter.reason, detail: letter.detail, part: String(part), parts: String(parts) },
      };
      // One piece per entry: a request then holds at most what fits below Kafka's limits.
      pieces.push(this.enqueue(this.topics.deadLetter, [record], MAX_BYTES_PER_SEND));
    }
    await Promise.all(pieces);
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  private enqueue(topic: string, records: ProducedRecord[], bytes = sizeOf(records)): Promise<Placement> {
    return new Promise<Placement>((resolve, reject) => {
      this.queue.push({ topic, records, bytes, resolve, reject });
      void this.pump();
    });
  }

  /** One request at a time, each taking as many waiting entries of one topic as fit. */
  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      for (let taken = this.take(); taken.length > 0; taken = this.take()) {
        const topic = (taken[0] as Pending).topic;
        try {
          const placement = await this.producer.send(topic, taken.length === 1 ? (taken[0] as Pending).records : taken.flatMap((entry) => entry.records));
          for (const entry of taken) entry.resolve(placement);
        } catch (err) {
          for (const entry of taken) entry.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private take(): Pending[] {
    const first = this.queue[0];
    if (first === undefined) return [];
    let count = 1;
    let bytes = first.bytes;
    for (const next of this.queue.slice(1)) {
      if (next.topic !== first.topic || bytes + next.bytes > MAX_BYTES_PER_SEND) break;
      bytes += next.bytes;
      count += 1;
    }
    return this.queue.splice(0, count);
  }
}

function sizeOf(records: readonly ProducedRecord[]): number {
  let bytes = 0;
  for (const record of records) bytes += Buffer.byteLength(record.value) + RECORD_OVERHEAD_BYTES;
  return bytes;
}

function* chunksBelow(records: ProducedRecord[], maxBytes: number): Generator<ProducedRecord[]> {
  let chunk: ProducedRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = Buffer.byteLength(record.value) + RECORD_OVERHEAD_BYTES;
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}
