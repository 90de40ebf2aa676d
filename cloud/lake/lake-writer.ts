import { performance } from 'node:perf_hooks';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { parseReading } from '../../shared/reading-schema.js';
import { CheckpointSchedule } from './checkpoints.js';
import { DeltaTable } from './delta/table.js';
import { appendExactlyOnce, planExactlyOnce, txnNames, type AppendPlan, type ExactlyOnceRules, type PendingMessage } from './operations/append.js';
import { EncoderPool } from './parquet/encoder-pool.js';
import { appendDeadLetters } from './operations/dead-letters.js';
import type { ObjectStore } from './storage/object-store.js';
import { DEAD_LETTERS_TABLE } from './tables/dead-letters.js';
import { READINGS_TABLE } from './tables/readings.js';

export interface LakeWriterOptions {
  topic: string;
  groupId: string;
  /** Names this writer's txn actions; writers sharing a table and topic must share it. */
  appId: string;
  /** A commit happens when this many readings wait, … */
  maxRecords: number;
  /** … or their messages hold this many bytes, … */
  maxBytes: number;
  /** … or the oldest waiting reading has waited this long. */
  maxAgeMs: number;
  /** A checkpoint every this many versions. */
  checkpointInterval: number;
  /** See ExactlyOnceRules.maxSeqJump. */
  maxSeqJump: number;
  /** The consumer died for good (kafkajs gave up restarting it): the process should exit and be restarted. */
  onFatal: (error: Error) => void;
}

export interface LakeStores {
  readings: ObjectStore;
  deadLetters: ObjectStore;
}

/**
 * Kafka readings → Delta, exactly once (see planExactlyOnce). Kafka's own committed offsets are
 * only a hint for where to resume; the txn actions in the Delta log are the truth. What cannot go
 * into the readings table goes into the dead-letter table first, under the same rule.
 */
export class LakeWriter {
  private readonly consumer: Consumer;
  private readonly rules: ExactlyOnceRules;
  private readings: DeltaTable | undefined;
  private deadLetters: DeltaTable | undefined;
  private buffer: PendingMessage[] = [];
  private bufferedBytes = 0;
  /** Monotonic, so a clock stepped back cannot hold a commit. */
  private oldestPendingAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Serialises flushes from the batch handler and the age timer; a failed one does not block the next. */
  private flushing: Promise<void> = Promise.resolve();
  private readonly checkpoints: CheckpointSchedule;
  private encoder: EncoderPool | undefined;

  constructor(
    kafka: Kafka,
    private readonly stores: LakeStores,
    private readonly options: LakeWriterOptions,
    private readonly log: Logger,
    private readonly engineInfo = 'echolake-cloud',
  ) {
    this.consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
    this.rules = { names: txnNames(options.appId, options.topic), maxSeqJump: options.maxSeqJump };
    this.checkpoints = new CheckpointSchedule(options.checkpointInterval, log);
  }

  async start(): Promise<void> {
    this.readings = await DeltaTable.open(this.stores.readings, READINGS_TABLE, this.log, this.engineInfo);
    this.deadLetters = await DeltaTable.open(this.stores.deadLetters, DEAD_LETTERS_TABLE, this.log, this.engineInfo);
    this.encoder = new EncoderPool();
    await this.consumer.connect();
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => this.onRebalance(event.payload.memberAssignment));
    this.consumer.on(CRASH, (event) => {
      if (!event.payload.restart) this.options.onFatal(event.payload.error);
    });
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
    this.flushTimer = setInterval(() => this.flushIfOld(), Math.max(100, Math.floor(this.options.maxAgeMs / 4)));
    this.log.info(
      { topic: this.options.topic, groupId: this.options.groupId, table: this.readings.location, tableVersion: this.readings.snapshot.version },
      'lake writer started',
    );
  }

  /** The tables this writer has open (none before start), for their metrics. */
  openTables(): DeltaTable[] {
    return [this.readings, this.deadLetters].filter((table) => table !== undefined);
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    try {
      await this.consumer.stop();
      await this.flush();
    } finally {
      await this.consumer.disconnect();
      await this.encoder?.close();
    }
  }

  /**
   * After a rebalance the consumer reads again from the table's offsets: whatever was buffered is
   * read again (or now belongs to another writer), so the buffer starts afresh.
   */
  private onRebalance(assignment: Record<string, number[]>): void {
    this.buffer = [];
    this.bufferedBytes = 0;
    this.seekToTable(assignment).catch((err: unknown) => this.log.error({ err }, 'seek to the table offsets failed'));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const position = { partition: batch.partition, offset: message.offset };
      const value = message.value ?? Buffer.alloc(0);
      const parsed = parseReading(value);
      if (parsed.ok) this.hold({ reading: parsed.value, position }, value.length);
      else {
        this.log.warn({ ...position, error: parsed.error }, 'unreadable reading: to the dead-letter table');
        this.hold({ reading: undefined, position, unreadable: { value, error: parsed.error } }, value.length);
      }
      payload.resolveOffset(message.offset);
      if (this.buffer.length >= this.options.maxRecords || this.bufferedBytes >= this.options.maxBytes) {
        // A failing commit throws here: kafkajs backs off, rejoins, and the rebalance empties the buffer.
        await this.flush();
        await payload.heartbeat();
      }
    }
    await payload.heartbeat();
  }

  private hold(entry: PendingMessage, bytes: number): void {
    if (this.buffer.length === 0) this.oldestPendingAt = performance.now();
    this.buffer.push(entry);
    this.bufferedBytes += bytes;
  }

  private flushIfOld(): void {
    if (this.buffer.length > 0 && performance.now() - this.oldestPendingAt >= this.options.maxAgeMs) {
      this.flush().catch((err: unknown) => this.log.error({ err }, 'lake commit failed; will retry'));
    }
  }

  private flush(): Promise<void> {
    const next = this.flushing.catch(() => undefined).then(() => this.commitBuffer());
    this.flushing = next;
    return next;
  }

  private async commitBuffer(): Promise<void> {
    if (this.buffer.length === 0 || this.readings === undefined || this.deadLetters === undefined || this.encoder === undefined) return;
    const taken = this.buffer;
    const takenBytes = this.bufferedBytes;
    this.buffer = [];
    this.bufferedBytes = 0;
    try {
      await this.commitDeadLetters(taken);
      const result = await appendExactlyOnce(this.readings, taken, this.rules, this.encoder);
      const offsets = offsetRanges(taken);
      this.log.info(
        { table: 'readings', version: result.version, rows: result.rows, files: result.files, bytes: takenBytes, offsets, sites: seqRanges(taken) },
        'readings committed to delta',
      );
      if (result.plan.duplicates.length > 0) this.logDuplicates(result.plan.duplicates);
      if (result.files > 0 || result.plan.txns.size > 0) await this.checkpoints.afterCommit(this.readings);
      await this.consumer.commitOffsets(nextOffsets(this.options.topic, offsets)).catch((err: unknown) =>
        this.log.warn({ err }, 'kafka offset commit failed; the delta log still has them'),
      );
    } catch (err) {
      // Keep the readings: the next flush tries them again, and the txn check keeps it exactly once.
      this.buffer = taken.concat(this.buffer);
      this.bufferedBytes += takenBytes;
      throw err;
    }
  }

  /** Refused messages go to the dead-letter table before the readings commit that skips them. */
  private async commitDeadLetters(pending: PendingMessage[]): Promise<void> {
    if (this.readings === undefined || this.deadLetters === undefined) return;
    const appendPlan = planExactlyOnce(this.readings.snapshot, pending, this.rules);
    if (appendPlan.refused.length === 0) return;
    const receivedAtMs = Date.now();
    const letters = appendPlan.refused.map((refused) => ({ topic: this.options.topic, ...refused, receivedAtMs }));
    const added = await appendDeadLetters(this.deadLetters, letters, this.rules.names);
    if (added > 0) {
      this.log.warn({ table: 'dead_letters', count: added, reasons: [...new Set(letters.map((l) => l.reason))].slice(0, 5) }, 'messages committed to the dead-letter table');
      await this.checkpoints.afterCommit(this.deadLetters);
    }
  }

  /** Loud enough to notice a site whose seqs went backwards (its new readings would look like copies). */
  private logDuplicates(duplicates: AppendPlan['duplicates']): void {
    const bySite = new Map<string, { count: number; firstSeq: number; lastSeq: number }>();
    for (const { siteId, seq } of duplicates) {
      const entry = bySite.get(siteId) ?? { count: 0, firstSeq: seq, lastSeq: seq };
      bySite.set(siteId, { count: entry.count + 1, firstSeq: Math.min(entry.firstSeq, seq), lastSeq: Math.max(entry.lastSeq, seq) });
    }
    for (const [siteId, range] of bySite) this.log.warn({ siteId, ...range }, 'readings already in the table dropped (a resent batch)');
  }

  private async seekToTable(assignment: Record<string, number[]>): Promise<void> {
    if (this.readings === undefined) return;
    await this.readings.refresh();
    for (const partition of assignment[this.options.topic] ?? []) {
      const committed = this.readings.snapshot.txns.get(this.rules.names.offset(partition));
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
