import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';

export interface FollowerSettings {
  topic: string;
  /** The follower's consumer group is `<groupPrefix>-<random>`: every follower reads the whole topic. */
  groupPrefix: string;
}

/**
 * Reads a whole topic from its beginning and then follows it (read_committed), for state every
 * instance keeps in full: the silences, the view of recent alerts. Commits nothing; its throwaway
 * group is forgotten by the broker once it leaves.
 *
 * `caughtUp` knows a transactional topic's end: the last offset of a partition is often a commit
 * marker no consumer is given, so positions also follow kafkajs' batch events, which count batches
 * of control records too.
 */
export class TopicFollower {
  private readonly consumer: Consumer;
  private readonly positions = new Map<number, bigint>();

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: FollowerSettings,
    private readonly onMessage: (message: KafkaMessage, partition: number) => void,
  ) {
    this.consumer = kafka.consumer({ groupId: `${settings.groupPrefix}-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 200 });
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => this.advance(payload.partition, BigInt(payload.lastOffset) + 1n));
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.settings.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        this.onMessage(message, partition);
        this.advance(partition, BigInt(message.offset) + 1n);
        return Promise.resolve();
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  /** Resolves once everything the topic held when called has been handed to `onMessage`. */
  async caughtUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const ends = await this.topicEnds(deadline);
    for (;;) {
      const behind = ends.filter((end) => (this.positions.get(end.partition) ?? 0n) < BigInt(end.high));
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`${this.settings.topic}: partitions ${behind.map((b) => b.partition).join(', ')} not read up to their end within ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /**
   * The topic's end offsets. Right after the topic was made, a broker may not yet lead its
   * partitions ("not the leader", retriable): asked again until the deadline rather than failing
   * the role's start.
   */
  private async topicEnds(deadline: number): Promise<Array<{ partition: number; high: string }>> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      for (;;) {
        try {
          return await admin.fetchTopicOffsets(this.settings.topic);
        } catch (err) {
          if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
          await sleep(200);
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  private advance(partition: number, position: bigint): void {
    if (position > (this.positions.get(partition) ?? 0n)) this.positions.set(partition, position);
  }
}
