import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../../shared/log.js';

/**
 * The one consumer abstraction of the cloud: a kafkajs consumer group on one topic whose work is
 * done per partition by processors that own their state.
 *
 * - A partition's processor is opened when the group assigns the partition to this instance and
 *   closed when it goes elsewhere; opening restores its state (from a changelog, a Delta log, …) and
 *   may name the offset it continues from, ahead of the group's committed offset.
 * - Offsets are never committed by kafkajs: a processor makes its state durable together with the
 *   offsets it covers in `flush` (a Kafka transaction with `sendOffsets`, a Delta commit with a txn
 *   action), so offsets are never ahead of the state they produced.
 * - Everything a processor does — open, process, flush, close — runs one at a time on one queue, so
 *   a timer-driven flush never overlaps a batch, and a processor never sees two calls at once.
 */

export interface PartitionProcessor {
  /** Messages of the partition in offset order, none below the offset `open` named. */
  process(messages: KafkaMessage[]): Promise<void> | void;
  /**
   * Makes what was processed durable with its offsets; also called every `flushIntervalMs` while
   * idle, so work driven by time (absence checks) gets out. Throws `PartitionLostError` when
   * another instance has taken the partition over (fenced): the processor is then dropped.
   */
  flush(): Promise<void>;
  /** The partition is no longer ours (or we stop): release resources. Flush first if `orderly`. */
  close(orderly: boolean): Promise<void>;
}

export interface OpenedPartition {
  processor: PartitionProcessor;
  /** First offset to process; messages below it are skipped (undefined: from the group's committed offset). */
  startOffset?: string;
}

export interface PartitionFactory {
  /** The group gave us these partitions: restore and open them. `heartbeat` keeps the membership alive during a long restore. */
  open(partitions: number[], heartbeat: () => Promise<void>): Promise<Map<number, OpenedPartition>>;
}

/** A flush found the partition fenced: another instance owns it now. */
export class PartitionLostError extends Error {
  constructor(
    readonly partition: number,
    cause: unknown,
  ) {
    super(`partition ${partition} was taken over by another instance`, { cause });
    this.name = 'PartitionLostError';
  }
}

export interface PartitionedConsumerSettings {
  groupId: string;
  topic: string;
  /** How often idle partitions flush; a batch flushes as soon as this much time passed since the last flush. */
  flushIntervalMs: number;
  sessionTimeoutMs: number;
  /** A new group (no committed offsets) starts at the topic's beginning rather than its end. */
  fromBeginning: boolean;
  /** Called when the consumer cannot go on (kafkajs crashed for good, a flush failed): stop and restart. */
  onFatal(err: Error): void;
}

interface Owned {
  processor: PartitionProcessor;
  startOffset: bigint | undefined;
}

export class PartitionedConsumer {
  private readonly consumer: Consumer;
  private readonly owned = new Map<number, Owned>();
  private assignment = new Set<number>();
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastFlush = Date.now();
  private stopping = false;

  constructor(
    kafka: Kafka,
    private readonly settings: PartitionedConsumerSettings,
    private readonly factory: PartitionFactory,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({
      groupId: settings.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: Math.max(1000, Math.floor(settings.sessionTimeoutMs / 10)),
      readUncommitted: false,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.assignment = new Set(event.payload.memberAssignment[settings.topic] ?? []);
      log.info({ partitions: [...this.assignment].sort((a, b) => a - b) }, 'partitions assigned');
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (!event.payload.restart && !this.stopping) settings.onFatal(event.payload.error);
    });
  }

  /** Partitions this instance processes right now. */
  get partitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.settings.topic, fromBeginning: this.settings.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.eachBatch(payload),
    });
    // The timer opens newly assigned partitions too, so a partition with no new readings still restores and ticks.
    // (kafkajs offers no heartbeat outside a batch; the fetch loop waits on this queue meanwhile, as in a batch.)
    this.timer = setInterval(() => void this.serial(() => this.reconcile(() => Promise.resolve()).then(() => this.flushDue(true))), this.settings.flushIntervalMs);
  }

  /**
   * For processors whose offsets live elsewhere (a Delta txn): records in the group where a
   * partition continues, so lag shows in Kafka's tools and a start need not read from the
   * beginning. Only a hint: the processor's `startOffset` still decides.
   */
  async commitOffsetHint(partition: number, nextOffset: string): Promise<void> {
    await this.consumer.commitOffsets([{ topic: this.settings.topic, partition, offset: nextOffset }]);
  }

  /** Flushes and closes every partition (their state is durable when this resolves), then leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.serial(async () => {
      for (const partition of this.partitions) await this.closePartition(partition, true);
    });
    await this.consumer.disconnect();
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    await this.serial(async () => {
      if (!payload.isRunning() || payload.isStale() || this.stopping) return;
      await this.reconcile(heartbeat);
      const owned = this.owned.get(batch.partition);
      if (owned === undefined) return;
      const start = owned.startOffset;
      const messages = start === undefined ? batch.messages : batch.messages.filter((m) => BigInt(m.offset) >= start);
      if (messages.length > 0) await owned.processor.process(messages);
      // Moves kafkajs' fetch position on (without it the same batch comes again); nothing is committed by this.
      payload.resolveOffset(batch.lastOffset());
      await this.flushDue(false);
    });
    await heartbeat();
  }

  /** Opens partitions the group gave us and closes the ones it took away, before any batch of them. */
  private async reconcile(heartbeat: () => Promise<void>): Promise<void> {
    await this.closeRevoked();
    const added = [...this.assignment].filter((partition) => !this.owned.has(partition));
    if (added.length === 0) return;
    const started = Date.now();
    const opened = await this.factory.open(added, heartbeat);
    for (const [partition, { processor, startOffset }] of opened) {
      this.owned.set(partition, { processor, startOffset: startOffset === undefined ? undefined : BigInt(startOffset) });
    }
    this.log.info({ partitions: added, ms: Date.now() - started }, 'partitions opened');
  }

  /** Partitions the last rebalance took away: their state was durable at the last flush; the rest is dropped. */
  private async closeRevoked(): Promise<void> {
    for (const partition of this.partitions) {
      if (!this.assignment.has(partition)) await this.closePartition(partition, false);
    }
  }

  private async flushDue(idle: boolean): Promise<void> {
    if (this.stopping || Date.now() - this.lastFlush < this.settings.flushIntervalMs * (idle ? 0.5 : 1)) return;
    this.lastFlush = Date.now();
    for (const [partition, owned] of [...this.owned]) {
      try {
        await owned.processor.flush();
      } catch (err) {
        if (!(err instanceof PartitionLostError)) throw err;
        this.log.warn({ partition, err }, 'partition lost to another instance; its state is dropped here');
        this.owned.delete(partition);
        await owned.processor.close(false).catch(() => undefined);
      }
    }
  }

  private async closePartition(partition: number, orderly: boolean): Promise<void> {
    const owned = this.owned.get(partition);
    if (owned === undefined) return;
    this.owned.delete(partition);
    try {
      await owned.processor.close(orderly);
    } catch (err) {
      this.log.warn({ partition, err }, 'closing a partition failed');
    }
    this.log.info({ partition, orderly }, 'partition closed');
  }

  /** Runs `work` after everything queued before it; a failure is fatal (the queue itself goes on, empty). */
  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch((err: unknown) => {
      if (!this.stopping) this.settings.onFatal(err as Error);
    });
    return run;
  }
}
