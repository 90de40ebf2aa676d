import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { KafkajsProducer } from './kafkajs-producer.js';
import { PlatformaticProducer } from './platformatic-producer.js';
import type { KafkaClientName, KafkaProducer, ProducerCompression } from './producer.js';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  topics: KafkaTopics;
  /** Partitions for topics the cloud creates itself; more partitions, more consumers can share the work. */
  partitions: number;
  replicationFactor: number;
}

export interface ProducerSettings {
  brokers: string[];
  clientId: string;
  producer: { client: KafkaClientName; compression: ProducerCompression };
}

export interface KafkaTopics {
  readings: string;
  deadLetter: string;
}

/** One Kafka client per process; its log lines go through our logger so they are JSON too. */
export function createKafka(settings: KafkaSettings, log: Logger): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      const level = entry.level === logLevel.ERROR ? 'error' : entry.level === logLevel.WARN ? 'warn' : 'debug';
      log[level]({ kafka: entry.namespace, ...fields }, message);
    },
  });
}

/** The producer the ingest writes through, with the client `kafka.producer.client` names. */
export function createProducer(settings: ProducerSettings, kafka: Kafka): KafkaProducer {
  const { client, compression } = settings.producer;
  if (client === 'kafkajs') return new KafkajsProducer(kafka, compression);
  return new PlatformaticProducer({ brokers: settings.brokers, clientId: settings.clientId, compression });
}

/** Creates the topics the cloud writes, if they are missing; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, settings: KafkaSettings): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [settings.topics.readings, settings.topics.deadLetter].filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: settings.partitions,
        replicationFactor: settings.replicationFactor,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/**
 * A readiness probe: whether a broker answers a metadata request now. Asked at most every few
 * seconds, however often /readyz is scraped.
 */
export function kafkaReachable(kafka: Kafka, everyMs = 5000, timeoutMs = 3000): () => Promise<boolean> {
  const admin = kafka.admin();
  let connected = false;
  let last = { at: 0, ok: false };
  const ask = async (): Promise<void> => {
    if (!connected) await admin.connect();
    connected = true;
    await admin.describeCluster();
  };
  return async () => {
    if (Date.now() - last.at < everyMs) return last.ok;
    let timer: NodeJS.Timeout | undefined;
    // A broker that accepts the connection but never answers (frozen, overloaded) is not ready either.
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), timeoutMs)));
    try {
      await Promise.race([ask(), late]);
      last = { at: Date.now(), ok: true };
    } catch {
      last = { at: Date.now(), ok: false };
    } finally {
      clearTimeout(timer);
    }
    return last.ok;
  };
}
