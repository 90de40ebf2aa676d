import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { requiredEnv } from './env.js';

export interface TopicMessage {
  partition: number;
  offset: string;
  value: string;
  headers: Record<string, string>;
}

/** Every message of a topic up to its current end, read by a throwaway consumer group. */
export async function readWholeTopic(topic: string, brokers = requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS')): Promise<TopicMessage[]> {
  const kafka = new Kafka({ clientId: 'echolake-test-reader', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const remaining = new Map(ends.filter((end) => Number(end.high) > 0).map((end) => [end.partition, Number(end.high)]));
  const messages: TopicMessage[] = [];
  if (remaining.size === 0) return messages;
  const consumer = kafka.consumer({ groupId: `echolake-test-reader-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: ({ partition, message }) => {
          messages.push({ partition, offset: message.offset, value: String(message.value), headers: headerStrings(message.headers) });
          if (Number(message.offset) + 1 >= (remaining.get(partition) ?? 0)) remaining.delete(partition);
          if (remaining.size === 0) resolve();
          return Promise.resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return messages;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([key, value]) => [key, String(value)]));
}
