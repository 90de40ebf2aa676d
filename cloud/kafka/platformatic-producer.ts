import { compatibilityPartitioner, ProduceAcks, Producer, serializersFrom, type Partitioner } from '@platformatic/kafka';
import type { KafkaProducer, Placement, ProducedRecord, ProducerCompression } from './producer.js';

export interface PlatformaticSettings {
  brokers: string[];
  clientId: string;
  compression: ProducerCompression;
}

/** Attempts per send before the error goes up (the client's idempotent default is to retry for ever). */
const RETRIES = 5;
const RETRY_DELAY_MS = 250;
const REQUEST_TIMEOUT_MS = 30_000;

/** Distinct keys remembered per producer; a site fleet has far fewer devices, a hostile one is bounded. */
const MAX_REMEMBERED_KEYS = 100_000;

/**
 * Java's murmur2 of the key, remembered per key: every reading of a device hashes the same key
 * again (2.8 % of the ingest's CPU in the ingest bench). The client takes the result modulo the
 * partition count itself, so the cache does not depend on it.
 */
function rememberingPartitioner(): Partitioner<string, string | Buffer, string, string> {
  const remembered = new Map<string, number>();
  return (message, key) => {
    const text = message.key;
    if (typeof text !== 'string') return compatibilityPartitioner(message, key);
    let hash = remembered.get(text);
    if (hash === undefined) {
      hash = compatibilityPartitioner(message, key);
      if (remembered.size >= MAX_REMEMBERED_KEYS) remembered.clear();
      remembered.set(text, hash);
    }
    return hash;
  };
}

/** Strings as UTF-8, bytes as they are (a dead letter's payload); the client's own string serializer drops Buffers. */
function textOrBytes(data?: string | Buffer): Buffer | undefined {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

type StringProducer = Producer<string, string | Buffer, string, string>;

/**
 * @platformatic/kafka (pure TypeScript, 1.35: the last line for Node 20) behind the cloud's
 * producer interface. Idempotent, so one request in flight and acks=all; Java's murmur2
 * partitioning (`compatibilityPartitioner`; its default differs for keys whose hash is negative).
 */
export class PlatformaticProducer implements KafkaProducer {
  private producer: StringProducer;

  constructor(private readonly settings: PlatformaticSettings) {
    this.producer = this.create();
  }

  /** The client connects on its first send; asking for metadata now fails a start with Kafka away. */
  async connect(): Promise<void> {
    await this.producer.metadata({ topics: [] });
  }

  /** A failed idempotent producer is replaced (a fresh producer id), as with kafkajs; the site resends. */
  async send(topic: string, records: readonly ProducedRecord[]): Promise<Placement> {
    try {
      const result = await this.producer.send({ messages: records.map((record) => ({ topic, key: record.key, value: record.value, headers: record.headers })) });
      return (result.offsets ?? []).map((placed) => ({ partition: placed.partition, baseOffset: String(placed.offset) }));
    } catch (err) {
      const wedged = this.producer;
      this.producer = this.create();
      await new Promise<void>((resolve) => wedged.close(true, () => resolve()));
      throw err;
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }

  private create(): StringProducer {
    const { brokers, clientId, compression } = this.settings;
    return new Producer({
      clientId,
      bootstrapBrokers: brokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      ...(compression !== 'none' && { compression }),
      autocreateTopics: false,
      retries: RETRIES,
      retryDelay: RETRY_DELAY_MS,
      timeout: REQUEST_TIMEOUT_MS,
      partitioner: rememberingPartitioner(),
      serializers: serializersFrom(textOrBytes),
    });
  }
}
