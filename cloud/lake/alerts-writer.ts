import { performance } from 'node:perf_hooks';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { parseAlert } from '../alerts/alert.js';
import { PartitionedConsumer, type OpenedPartition, type PartitionFactory, type PartitionProcessor } from '../kafka/consumer.js';
import { CheckpointSchedule } from './checkpoints.js';
import { DeltaTable } from './delta/table.js';
import { txnNames, type TxnNames } from './operations/append.js';
import { appendOncePerOffset, type OffsetEntry } from './operations/append-by-offset.js';
import { appendDeadLetters } from './operations/dead-letters.js';
import type { ObjectStore } from './storage/object-store.js';
import { ALERTS_TABLE, alertBatches, type AlertRow } from './tables/alerts.js';
import { DEAD_LETTERS_TABLE } from './tables/dead-letters.js';

export interface AlertsTableOptions {
  /** The alerts topic (alerts.topics.alerts). */
  topic: string;
  groupId: string;
  /** Names the txn actions (with the topic, so the alerts table's never meet the readings'). */
  appId: string;
  /** A partition commits when this many records wait, … */
  maxRecords: number;
  /** … or the oldest has waited this long. */
  maxAgeMs: number;
  checkpointInterval: number;
  sessionTimeoutMs: number;
  /** How often a missing alerts topic is looked for again. */
  topicCheckMs: number;
  onFatal: (err: Error) => void;
}

export interface AlertsTableStores {
  alerts: ObjectStore;
  deadLetters: ObjectStore;
}

/**
 * The alerts topic into the `alerts` Delta table, exactly once, on the cloud's one consumer
 * abstraction: each partition's processor buffers the records and commits them with a txn holding
 * the partition's last offset, and a partition opens at the offset after that txn. The alerts role
 * writes the topic in transactions; this consumer reads committed records only, so an aborted
 * attempt never reaches the table. A record that is not an alert goes to the dead-letter table
 * first, under the same rule. Until the topic exists (the alerts role creates it, maybe in another
 * deployment) the writer looks for it every `topicCheckMs`, and creates the table only then.
 */
export class AlertsTableWriter implements PartitionFactory {
  private readonly consumer: PartitionedConsumer;
  private readonly names: TxnNames;
  private readonly checkpoints: CheckpointSchedule;
  private tables: { alerts: DeltaTable; deadLetters: DeltaTable } | undefined;
  private waitTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly stores: AlertsTableStores,
    private readonly options: AlertsTableOptions,
    private readonly log: Logger,
    private readonly engineInfo: string,
  ) {
    this.names = txnNames(options.appId, options.topic);
    this.checkpoints = new CheckpointSchedule(options.checkpointInterval, log);
    this.consumer = new PartitionedConsumer(
      kafka,
      {
        groupId: options.groupId,
        topic: options.topic,
        flushIntervalMs: Math.min(1000, Math.max(50, Math.floor(options.maxAgeMs / 4))),
        sessionTimeoutMs: options.sessionTimeoutMs,
        fromBeginning: true,
        onFatal: options.onFatal,
      },
      this,
      log,
    );
  }

  async start(): Promise<void> {
    if (await this.topicExists()) {
      await this.begin();
      return;
    }
    this.log.info({ topic: this.options.topic, checkEveryMs: this.options.topicCheckMs }, 'the alerts topic does not exist yet (the alerts role creates it); the alerts table waits for it');
    this.waitTimer = setInterval(() => {
      this.starting = this.starting.then(() => this.beginOnceTopicExists()).catch((err: unknown) => this.options.onFatal(err as Error));
    }, this.options.topicCheckMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.waitTimer);
    await this.starting;
    if (this.tables !== undefined) await this.consumer.stop();
  }

  async open(partitions: number[]): Promise<Map<number, OpenedPartition>> {
    const tables = this.tables;
    if (tables === undefined) throw new Error('the alerts table writer opened partitions before its tables');
    await tables.alerts.refresh();
    const opened = new Map<number, OpenedPartition>();
    for (const partition of partitions) {
      const committed = tables.alerts.snapshot.txns.get(this.names.offset(partition));
      const processor = new AlertsTablePartition(partition, tables, this.names, this.options, this.checkpoints, this.consumer, this.log);
      opened.set(partition, { processor, startOffset: committed === undefined ? undefined : String(committed + 1) });
    }
    return opened;
  }

  private async beginOnceTopicExists(): Promise<void> {
    if (this.stopped || this.tables !== undefined || !(await this.topicExists())) return;
    clearInterval(this.waitTimer);
    await this.begin();
  }

  private async begin(): Promise<void> {
    const [alerts, deadLetters] = await Promise.all([
      DeltaTable.open(this.stores.alerts, ALERTS_TABLE, this.log, this.engineInfo),
      DeltaTable.open(this.stores.deadLetters, DEAD_LETTERS_TABLE, this.log, this.engineInfo),
    ]);
    this.tables = { alerts, deadLetters };
    await this.consumer.start();
    this.log.info({ topic: this.options.topic, groupId: this.options.groupId, table: alerts.location, tableVersion: alerts.snapshot.version }, 'alerts table writer started');
  }

  private async topicExists(): Promise<boolean> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      return (await admin.listTopics()).includes(this.options.topic);
    } finally {
      await admin.disconnect();
    }
  }
}

type Entry = OffsetEntry<AlertRow> & { unreadable?: { value: Buffer; error: string } };

/** One partition of the alerts topic: its records since the last commit, committed by age or count. */
class AlertsTablePartition implements PartitionProcessor {
  private buffer: Entry[] = [];
  /** Monotonic, so a clock stepped back cannot hold a commit. */
  private oldestAt = 0;

  constructor(
    private readonly partition: number,
    private readonly tables: { alerts: DeltaTable; deadLetters: DeltaTable },
    private readonly names: TxnNames,
    private readonly options: AlertsTableOptions,
    private readonly checkpoints: CheckpointSchedule,
    private readonly consumer: PartitionedConsumer,
    private readonly log: Logger,
  ) {}

  process(messages: KafkaMessage[]): void {
    if (this.buffer.length === 0) this.oldestAt = performance.now();
    for (const message of messages) {
      const position = { partition: this.partition, offset: message.offset };
      const parsed = parseAlert(message.value);
      if (parsed.ok) {
        this.buffer.push({ position, row: { alert: parsed.value, position } });
        continue;
      }
      this.log.warn({ ...position, error: parsed.error }, 'unreadable alert record: to the dead-letter table');
      this.buffer.push({ position, row: undefined, unreadable: { value: message.value ?? Buffer.alloc(0), error: parsed.error } });
    }
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    if (this.buffer.length < this.options.maxRecords && performance.now() - this.oldestAt < this.options.maxAgeMs) return;
    await this.commit();
  }

  async close(orderly: boolean): Promise<void> {
    // Unless orderly, what waits is dropped: the partition's next owner reads it again from the table's txn.
    if (orderly && this.buffer.length > 0) await this.commit();
    this.buffer = [];
  }

  /**
   * Dead letters first, then the alerts with the partition's offset txn (a failure throws: the
   * consumer stops the process, and its restart continues from the txns). Then Kafka gets the
   * offset too, only as a hint for monitoring and a short start: the table's txn is the truth.
   */
  private async commit(): Promise<void> {
    const taken = this.buffer;
    const { alerts, deadLetters } = this.tables;
    const letters = taken.flatMap(({ position, unreadable }) =>
      unreadable === undefined ? [] : [{ topic: this.options.topic, position, reason: `unreadable: ${unreadable.error}`, value: unreadable.value, siteId: null, receivedAtMs: Date.now() }],
    );
    if (letters.length > 0) {
      const added = await appendDeadLetters(deadLetters, letters, this.names);
      if (added > 0) await this.checkpoints.afterCommit(deadLetters);
    }
    const rows = await appendOncePerOffset(alerts, taken, (partition) => this.names.offset(partition), alertBatches, {
      operation: 'STREAMING UPDATE',
      operationParameters: { outputMode: 'Append' },
      isBlindAppend: true,
    });
    this.buffer = [];
    const last = taken.at(-1)?.position.offset ?? '-1';
    this.log.info({ table: 'alerts', version: alerts.snapshot.version, rows, partition: this.partition, offsets: [taken[0]?.position.offset, last] }, 'alerts committed to delta');
    await this.checkpoints.afterCommit(alerts);
    await this.consumer
      .commitOffsetHint(this.partition, String(BigInt(last) + 1n))
      .catch((err: unknown) => this.log.warn({ err }, 'kafka offset commit failed; the delta log still has them'));
  }
}
