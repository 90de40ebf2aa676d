import type { Admin, Kafka } from 'kafkajs';

export interface AlertTopics {
  readings: string;
  alerts: string;
  changelog: string;
  silences: string;
  /** The site stream: what site rules need of each reading, keyed by site (a repartition topic). */
  siteReadings: string;
  siteChangelog: string;
}

/**
 * Creates the alerts role's topics if missing: the alerts topic; the site stream; a state changelog
 * for each input (readings, site stream), compacted, with exactly as many partitions as its input
 * (partition P holds input partition P's state); the silences, compacted, one partition (every
 * instance reads all of them).
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
    const siteStreamPartitions = existing.has(topics.siteReadings) ? await partitionsOf(admin, topics.siteReadings) : options.partitions;
    const wanted = [
      { topic: topics.alerts, numPartitions: options.partitions, configEntries: [] },
      { topic: topics.siteReadings, numPartitions: siteStreamPartitions, configEntries: [] },
      { topic: topics.changelog, numPartitions: readingPartitions, configEntries: compacted },
      { topic: topics.siteChangelog, numPartitions: siteStreamPartitions, configEntries: compacted },
      { topic: topics.silences, numPartitions: 1, configEntries: compacted },
    ].filter(({ topic }) => !existing.has(topic));
    if (wanted.length > 0) {
      await admin.createTopics({ waitForLeaders: true, topics: wanted.map((t) => ({ ...t, replicationFactor: options.replicationFactor })) });
    }
    for (const [changelog, input, inputPartitions] of [
      [topics.changelog, topics.readings, readingPartitions],
      [topics.siteChangelog, topics.siteReadings, siteStreamPartitions],
    ] as const) {
      const changelogPartitions = await partitionsOf(admin, changelog);
      if (changelogPartitions !== inputPartitions) {
        throw new Error(
          `the changelog ${changelog} has ${changelogPartitions} partitions, ${input} ${inputPartitions}: they must match ` +
            '(it is keyed by input partition; after repartitioning the input, give the changelog a new name: that state starts empty)',
        );
      }
    }
  } finally {
    await admin.disconnect();
  }
}

async function partitionsOf(admin: Admin, topic: string): Promise<number> {
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  return metadata.topics[0]?.partitions.length ?? 0;
}
