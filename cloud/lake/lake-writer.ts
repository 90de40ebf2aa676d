import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { parseReading } from '../../shared/reading-schema.js';
import type { Snapshot } from './delta-log.js';
import type { AppendPlan, DeltaTable } from './delta-table.js';
import { planExactlyOnce, txnNames, type PendingMessage, type TxnNames } from './exactly-once.js';

export interface LakeWriterOptions {
  topic: string;
  groupId: string;
  /** Names this writer's txn actions; writers sharing a table and topic must share it. */
  appId: string;
  /** A commit happens when this many readings wait, … */
  maxRecords: number;
  /** … or when the oldest waiting reading has waited this long. */
  maxAgeMs: number;
}


export interface LakeCounters {
  commits: number;
  rowsCommitted: number;
  duplicatesDropped: number;
  unreadableSkipped: number;
}

/**
 * Kafka readings → Delta, exactly once (see planExactlyOnce). Kafka's own committed offsets are
 * only a hint for where to resume; the txn actions in the Delta log are the truth.
 */
export class LakeWriter {
  private readonly consumer: Consumer;
  private readonly names: TxnNames;
  private buffer: PendingMessage[] = [];
  private oldestPendingMessageAt = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Serialises flushes from the batch handler and the age timer. */
  private flushing: Promise<void> = Promise.resolve();
  readonly counters: LakeCounters = { commits: 0, rowsCommitted: 0, duplicatesDropped: 0, unreadableSkipped: 0 };

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
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      this.seekToTable(event.payload.memberAssignment).catch((err: unknown) =>
        this.log.error({ err: (err as Error).message }, 'seek to the table offsets failed'),
      );
    });
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => this.onBatch(payload) });
    this.flushTimer = setInterval(() => this.flushIfOld(), Math.max(100, Math.floor(this.options.maxAgeMs / 4)));
    this.log.info({ topic: this.options.topic, groupId: this.options.groupId, tableVersion: snapshot.version }, 'lake writer started');
  }

  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.consumer.stop();
    await this.flush();
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) return;
      const position = { partition: batch.partition, offset: message.offset };
      const parsed = parseReading(message.value ?? Buffer.alloc(0));
      if (!parsed.ok) {
        this.counters.unreadableSkipped += 1;
        this.log.warn({ ...position, error: parsed.error }, 'unreadable reading skipped');
      }
      this.hold({ reading: parsed.ok ? parsed.value : undefined, position });
      payload.resolveOffset(message.offset);
    }
    if (this.buffer.length >= this.options.maxRecords) await this.flush();
    await payload.heartbeat();
  }

  private hold(entry: PendingMessage): void {
    if (this.buffer.length === 0) this.oldestPendingMessageAt = Date.now();
    this.buffer.push(entry);
  }

  private flushIfOld(): void {
    if (this.buffer.length > 0 && Date.now() - this.oldestPendingMessageAt >= this.options.maxAgeMs) {
      this.flush().catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'lake commit failed; will retry'));
    }
  }

  private flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.commitBuffer());
    return this.flushing;
  }

  private async commitBuffer(): Promise<void> {
    if (this.buffer.length === 0) return;
    const taken = this.buffer;
    this.buffer = [];
    try {
      const result = await this.table.append((snapshot) => this.plan(snapshot, taken));
      this.counters.commits += 1;
      this.counters.rowsCommitted += result.rows;
      this.log.info({ table: 'readings', version: result.version, rows: result.rows, files: result.files, ...offsetRange(taken) }, 'readings committed to delta');
      await this.consumer.commitOffsets(nextOffsets(this.options.topic, taken)).catch(() => undefined);
    } catch (err) {
      // Keep the readings: the next flush tries them again, and the txn check keeps it exactly once.
      this.buffer = taken.concat(this.buffer);
      throw err;
    }
  }

  private plan(snapshot: Snapshot, pending: PendingMessage[]): AppendPlan {
    const plan = planExactlyOnce(snapshot, pending, this.names);
    if (plan.duplicates > 0) {
      this.counters.duplicatesDropped += plan.duplicates;
      this.log.info({ duplicates: plan.duplicates }, 'resent readings already in the table dropped');
    }
    return plan;
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

function offsetRange(entries: PendingMessage[]): { firstOffset?: string; lastOffset?: string } {
  return { firstOffset: entries[0]?.position.offset, lastOffset: entries[entries.length - 1]?.position.offset };
}

function nextOffsets(topic: string, entries: PendingMessage[]): Array<{ topic: string; partition: number; offset: string }> {
  const last = new Map<number, number>();
  for (const { position } of entries) last.set(position.partition, Math.max(last.get(position.partition) ?? -1, Number(position.offset)));
  return [...last].map(([partition, offset]) => ({ topic, partition, offset: String(offset + 1) }));
}
