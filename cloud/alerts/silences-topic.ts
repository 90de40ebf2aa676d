import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { TopicFollower } from '../kafka/follower.js';
import type { Silence, Silences } from './silences.js';

/**
 * Silences live on a compacted topic (key = silence id), so every instance — whichever one the
 * operator's request reached — reads all of them, and they survive restarts.
 */
export class SilencesTopic {
  private readonly producer: Producer;
  private readonly follower: TopicFollower;

  constructor(
    kafka: Kafka,
    private readonly topic: string,
    private readonly silences: Silences,
    groupPrefix: string,
    private readonly log: Logger,
  ) {
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.follower = new TopicFollower(kafka, { topic, groupPrefix }, (message) => {
      const id = message.key?.toString() ?? '';
      try {
        silences.apply(id, message.value === null ? null : (JSON.parse(message.value.toString()) as Silence), Date.now());
      } catch (err) {
        log.warn({ id, err }, 'silences record is not JSON; ignored');
      }
    });
  }

  /** Connects and reads every silence there is before the role goes on. */
  async start(): Promise<void> {
    await this.producer.connect();
    await this.follower.start();
    await this.follower.caughtUp(60_000);
  }

  async stop(): Promise<void> {
    await this.follower.stop();
    await this.producer.disconnect();
  }

  async add(silence: Silence): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: silence.id, value: JSON.stringify(silence) }] });
    this.silences.apply(silence.id, silence, Date.now());
    this.log.info({ silence }, 'silence added');
  }

  async remove(id: string, operator: string): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: id, value: null }] });
    this.silences.apply(id, null, Date.now());
    this.log.info({ silenceId: id, operator }, 'silence removed');
  }
}
