import type { Kafka } from 'kafkajs';

/** The audit topic, if missing: kept for good (it is an audit), partitioned by command id. */
export async function ensureAuditTopic(kafka: Kafka, topic: string, options: { partitions: number; replicationFactor: number }): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: options.partitions, replicationFactor: options.replicationFactor, configEntries: [{ name: 'retention.ms', value: '-1' }] }],
    });
  } finally {
    await admin.disconnect();
  }
}
