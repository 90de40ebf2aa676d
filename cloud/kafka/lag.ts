import type { FromSchema } from 'json-schema-to-ts';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '../../shared/log.js';

/** A consumer group whose lag the pipeline panel shows, and the topic it reads. */
export interface WatchedGroup {
  role: string;
  groupId: string;
  topic: string;
}

/** The pipeline panel's consumer lag: the answer's schema, and its type from it. */
export const lagAnswerSchema = {
  type: 'object',
  required: ['at', 'groups', 'error'],
  additionalProperties: false,
  properties: {
    at: { type: 'string', format: 'date-time', description: 'when Kafka was asked (answers are cached for a few seconds)' },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        required: ['role', 'groupId', 'topic', 'lag', 'partitions'],
        additionalProperties: false,
        properties: {
          role: { type: 'string' },
          groupId: { type: 'string' },
          topic: { type: 'string' },
          lag: { type: ['integer', 'null'], minimum: 0, description: 'records in the topic the group has not committed yet; null when it has committed nothing (not running, or new)' },
          partitions: { type: 'integer', minimum: 0 },
        },
      },
    },
    error: { type: ['string', 'null'], description: 'why Kafka gave no answer (unreachable, too slow); the lags are then null' },
  },
} as const;

export type LagAnswer = FromSchema<typeof lagAnswerSchema>;
export type GroupLag = LagAnswer['groups'][number];

/**
 * A group's lag from its committed offsets and the topic's ends. A partition it never committed on
 * counts whole (both roles read from the beginning), but a group with no commit at all has no lag to
 * tell: it is not consuming.
 */
export function lagOf(
  committed: ReadonlyArray<{ partition: number; offset: string }>,
  ends: ReadonlyArray<{ partition: number; high: string; low: string }>,
): number | null {
  const byPartition = new Map(committed.map((c) => [c.partition, Number(c.offset)]));
  if (![...byPartition.values()].some((offset) => offset >= 0)) return null;
  let lag = 0;
  for (const end of ends) {
    const high = Number(end.high);
    const offset = byPartition.get(end.partition) ?? -1;
    lag += Math.max(0, high - (offset >= 0 ? offset : Number(end.low)));
  }
  return lag;
}

export interface LagProbeSettings {
  /** Answers are reused this long: a page polled by many operators asks Kafka once. */
  cacheMs: number;
  /** Kafka's answer is given up after this long. */
  timeoutMs: number;
}

/** Consumer lag of the watched groups, asked of Kafka on request (at most once per cacheMs, bounded in time). */
export class ConsumerLagProbe {
  private admin: Admin | undefined;
  private last: { at: number; answer: LagAnswer } | undefined;
  private inFlight: Promise<LagAnswer> | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly groups: readonly WatchedGroup[],
    private readonly settings: LagProbeSettings,
    private readonly log: Logger,
  ) {}

  read(): Promise<LagAnswer> {
    if (this.last !== undefined && Date.now() - this.last.at < this.settings.cacheMs) return Promise.resolve(this.last.answer);
    this.inFlight ??= this.ask().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  async stop(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect();
  }

  private async ask(): Promise<LagAnswer> {
    const at = new Date().toISOString();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Kafka did not answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
    });
    let answer: LagAnswer;
    try {
      answer = { at, groups: await Promise.race([this.lags(), late]), error: null };
    } catch (err) {
      this.log.warn({ err }, 'consumer lag unknown');
      // A broken connection is made again next time.
      await this.stop().catch(() => undefined);
      answer = { at, groups: this.groups.map((group) => ({ ...group, lag: null, partitions: 0 })), error: (err as Error).message };
    } finally {
      clearTimeout(timer);
    }
    this.last = { at: Date.now(), answer };
    return answer;
  }

  private async lags(): Promise<GroupLag[]> {
    if (this.admin === undefined) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    const admin = this.admin;
    const ends = new Map<string, Awaited<ReturnType<Admin['fetchTopicOffsets']>>>();
    for (const topic of new Set(this.groups.map((g) => g.topic))) ends.set(topic, await admin.fetchTopicOffsets(topic));
    return Promise.all(
      this.groups.map(async (group) => {
        const [committed] = await admin.fetchOffsets({ groupId: group.groupId, topics: [group.topic] });
        const topicEnds = ends.get(group.topic) ?? [];
        return { ...group, lag: lagOf(committed?.partitions ?? [], topicEnds), partitions: topicEnds.length };
      }),
    );
  }
}
