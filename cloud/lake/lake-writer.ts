import { performance } from 'node:perf_hooks';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { parseReading } from '../../shared/reading-schema.js';
import type { DeltaTable } from './delta-table.js';
import { planExactlyOnce, txnNames, type ExactlyOncePlan, type PendingMessage, type TxnNames } from './exactly-once.js';

export interface LakeWriterOptions {
  topic: string;
  groupId: string;
  /** Names this writer's txn actions; writers sharing a table and topic must share it. */
  appId: string;
  /** A commit happens when this many readings wait, … */
  maxRecords: number;
  /** … or when the oldest waiting reading has waited this long. */
  maxAgeMs: number;
  /** The consumer died for good (kafkajs gave up restarting it): the process should exit and be restarted. */
  onFatal: (error: Error) => void;
}

/**
 * Kafka readings → Delta, exactly once (see planExactlyOnce). Kafka's own committed offsets are
 * only a hint for where to resume; the txn actions in the Delta log are the truth.
 */
export class LakeWriter {
  private readonly consumer: Consumer;
  private readonly names: TxnNames;
  private buffer: PendingMessage[] = [];
  /** Monotonic, so a clock stepped back cannot hold a commit. */
  private oldestPendingAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Serialises flushes from the batch handler and the age timer; a failed one does not block the next. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    kafka: Kafka,
    private readonly table: DeltaTable,
    private readonly options: LakeWriterOptions,
    private readonly log: Logger,
  ) {
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    this.names = txnNames(options.appId, options.topic);
  }

  async start(): Promise<void> {
    const snapshot = await this.table.open();
    await this.consumer.connect();
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => this.onRebalance(event.payload.memberAssignment));
    this.consumer.on(CRASH, (event) => {
      if (!event.payload.restart) this.options.onFatal(event.payload.error);
    });
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
    this.flushTimer = setInterval(() => this.flushIfOld(), Math.max(100, Math.floor(this.options.maxAgeMs / 4)));
    this.log.info({ topic: this.options.topic, groupId: this.options.groupId, tableVersion: snapshot.version }, 'lake writer started');
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    try {
      await this.consumer.stop();
      await this.flush();
    } finally {
      await this.consumer.disconnect();
    }
  }

  /**
   * After a rebalance the consumer reads again from the table's offsets: whatever was buffered is
   * read again (or now belongs to another writer), so the buffer starts afresh.
   */
  private onRebalance(assignment: Record<string, number[]>): void {
    this.buffer = [];
    this.seekToTable(assignment).catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'seek to the table offsets failed'));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const position = { partition: batch.partition, offset: message.offset };
      const parsed = parseReading(message.value ?? Buffer.alloc(0));
      if (!parsed.ok) this.log.warn({ ...position, error: parsed.error }, 'unreadable reading skipped');
      this.hold({ reading: parsed.ok ? parsed.value : undefined, position });
      payload.resolveOffset(message.offset);
    }
    // A failing commit throws here: kafkajs backs off, rejoins, and the rebalance empties the buffer.
    if (this.buffer.length >= this.options.maxRecords) await this.flush();
    await payload.heartbeat();
  }

  private hold(entry: PendingMessage): void {
    if (this.buffer.length === 0) this.oldestPendingAt = performance.now();
    this.buffer.push(entry);
  }

  private flushIfOld(): void {
    if (this.buffer.length > 0 && performance.now() - this.oldestPendingAt >= this.options.maxAgeMs) {
      this.flush().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'lake commit failed; will retry'));
    }
  }

  private flush(): Promise<void> {
    const next = this.flushing.catch(() => undefined).then(() => this.commitBuffer());
    this.flushing = next;
    return next;
  }

  private async commitBuffer(): Promise<void> {
    if (this.buffer.length === 0) return;
    const taken = this.buffer;
    this.buffer = [];
    let plan: ExactlyOncePlan | undefined;
    try {
      const result = await this.table.append((snapshot) => (plan = planExactlyOnce(snapshot, taken, this.names)));
      const offsets = offsetRanges(taken);
      this.log.info(
        { table: 'readings', version: result.version, rows: result.rows, files: result.files, offsets, sites: seqRanges(taken) },
        'readings committed to delta',
      );
      if (plan !== undefined && plan.duplicates.length > 0) this.logDuplicates(plan.duplicates);
      await this.consumer.commitOffsets(nextOffsets(this.options.topic, offsets)).catch((err: unknown) =>
        this.log.warn({ err: (err as Error).message }, 'kafka offset commit failed; the delta log still has them'),
      );
    } catch (err) {
      // Keep the readings: the next flush tries them again, and the txn check keeps it exactly once.
      this.buffer = taken.concat(this.buffer);
      throw err;
    }
  }

  /** Loud enough to notice a site whose seqs went backwards (its new readings would look like copies). */
  private logDuplicates(duplicates: ExactlyOncePlan['duplicates']): void {
    const bySite = new Map<string, { count: number; firstSeq: number; lastSeq: number }>();
    for (const { siteId, seq } of duplicates) {
      const entry = bySite.get(siteId) ?? { count: 0, firstSeq: seq, lastSeq: seq };
      bySite.set(siteId, { count: entry.count + 1, firstSeq: Math.min(entry.firstSeq, seq), lastSeq: Math.max(entry.lastSeq, seq) });
    }
    for (const [siteId, range] of bySite) this.log.warn({ siteId, ...range }, 'readings already in the table dropped (a resent batch)');
  }

  private async seekToTable(assignment: Record<string, number[]>): Promise<void> {
    const snapshot = await this.table.open();
    for (const partition of assignment[this.options.topic] ?? []) {
      const committed = snapshot.txns.get(this.names.offset(partition));
      if (committed === undefined) continue;
      this.consumer.seek({ topic: this.options.topic, partition, offset: String(committed + 1) });
    }
  }
}

/** Per site, the first and last seq a commit covers: how someone follows a site's batch into a table version. */
function seqRanges(entries: PendingMessage[]): Record<string, [number, number]> {
  const ranges: Record<string, [number, number]> = {};
  for (const { reading } of entries) {
    if (reading === undefined) continue;
    const range = ranges[reading.siteId];
    ranges[reading.siteId] = range === undefined ? [reading.seq, reading.seq] : [Math.min(range[0], reading.seq), Math.max(range[1], reading.seq)];
  }
  return ranges;
}

/** Per partition, the first and last offset a commit covers. */
function offsetRanges(entries: PendingMessage[]): Record<number, [number, number]> {
  const ranges: Record<number, [number, number]> = {};
  for (const { position } of entries) {
    const offset = Number(position.offset);
    const range = ranges[position.partition];
    ranges[position.partition] = range === undefined ? [offset, offset] : [Math.min(range[0], offset), Math.max(range[1], offset)];
  }
  return ranges;
}

function nextOffsets(topic: string, ranges: Record<number, [number, number]>): Array<{ topic: string; partition: number; offset: string }> {
  return Object.entries(ranges).map(([partition, [, last]]) => ({ topic, partition: Number(partition), offset: String(last + 1) }));
}
