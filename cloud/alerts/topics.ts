import type { Kafka } from 'kafkajs';

export interface AlertTopics {
  readings: string;
  alerts: string;
  changelog: string;
  silences: string;
}

/**
 * Creates the alerts role's topics if missing: the alerts topic; the state changelog, compacted,
 * with exactly as many partitions as the readings topic (partition P holds readings partition P's
 * state); the silences, compacted, one partition (every instance reads all of them).
 */
export async function ensureAlertTopics(kafka: Kafka, topics: AlertTopics, options: { partitions: number; replicationFactor: number }): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const readings = await admin.fetchTopicMetadata({ topics: [topics.readings] }).catch((err: unknown) => {
      throw new Error(`the readings topic ${topics.readings} must exist before the alerts role starts (the ingest role creates it)`, { cause: err });
    });
    const readingPartitions = readings.topics[0]?.partitions.length ?? 0;
    const existing = new Set(await admin.listTopics());
    const compacted = [{ name: 'cleanup.policy', value: 'compact' }];
    const wanted = [
      { topic: topics.alerts, numPartitions: options.partitions, configEntries: [] },
      { topic: topics.changelog, numPartitions: readingPartitions, configEntries: compacted },
      { topic: topics.silences, numPartitions: 1, configEntries: compacted },
    ].filter(({ topic }) => !existing.has(topic));
    if (wanted.length > 0) {
      await admin.createTopics({ waitForLeaders: true, topics: wanted.map((t) => ({ ...t, replicationFactor: options.replicationFactor })) });
    }
    const changelog = await admin.fetchTopicMetadata({ topics: [topics.changelog] });
    const changelogPartitions = changelog.topics[0]?.partitions.length ?? 0;
    if (changelogPartitions !== readingPartitions) {
      throw new Error(
        `the changelog ${topics.changelog} has ${changelogPartitions} partitions, the readings topic ${readingPartitions}: they must match ` +
          '(it is keyed by readings partition; after repartitioning the readings, give alerts.topics.changelog a new name: the alerts state starts empty)',
      );
    }
  } finally {
    await admin.disconnect();
  }
}
