import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { ReadingBatch } from '../../shared/reading.js';
import type { KafkaTopics } from '../kafka/client.js';

/** Where the ingest puts what it took from MQTT. */
export interface ReadingSink {
  /** Resolves only after Kafka acknowledged every reading of the batch (acks=all). */
  writeBatch(batch: ReadingBatch): Promise<void>;
  /** Keeps what could not be read, with the reason, so nothing a site sent is lost. */
  writeDeadLetter(source: string, payload: Buffer, reason: string): Promise<void>;
}

/**
 * Kafka producer for readings: idempotent with acks=all, keyed by deviceId so one device's
 * readings stay ordered within a partition. Headers carry the identity for tools that do not
 * parse values.
 */
export class KafkaReadingSink implements ReadingSink {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly topics: KafkaTopics,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as Java clients partition: a device lands where other tools expect it.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async writeBatch(batch: ReadingBatch): Promise<void> {
    await this.producer.send({
      topic: this.topics.readings,
      acks: -1,
      messages: batch.readings.map((reading) => ({
        key: reading.deviceId,
        value: JSON.stringify(reading),
        headers: { siteId: reading.siteId, seq: String(reading.seq), batchId: batch.batchId },
      })),
    });
  }

  async writeDeadLetter(source: string, payload: Buffer, reason: string): Promise<void> {
    await this.producer.send({
      topic: this.topics.deadLetter,
      acks: -1,
      messages: [{ key: source, value: payload, headers: { reason, source } }],
    });
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
