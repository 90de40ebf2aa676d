import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '../../shared/log.js';
import { PartitionLostError, type OpenedPartition, type PartitionFactory, type PartitionProcessor } from '../kafka/consumer.js';
import type { Alert } from './alert.js';
import { chunksOfBytes } from '../kafka/send-chunks.js';
import { changelogMessages, MARKER_KEY, META_KEY, newMarker, restorePartitions, RULES_KEY, type PartitionMeta } from './changelog.js';
import { newCounters, PartitionEvaluator, type EvaluatorMode, type RuleSetRecord, type SiteLookup, type SubjectState } from './evaluator.js';
import { parseAlertInput } from './input.js';
import type { AlertMetrics } from './metrics.js';
import type { Rule } from './rules.js';

export interface AlertPartitionsSettings {
  /** The stream this engine reads (the readings topic, or the site stream), where it writes alerts and its state. */
  topics: { input: string; alerts: string; changelog: string };
  /** `devices` on the readings topic forwards what site rules need to `siteStream`; `sites` evaluates that stream. */
  mode: EvaluatorMode;
  siteStream: string;
  groupId: string;
  /** Prefix of the per-partition transactional ids; stable, so a restarted instance fences its former self at once. */
  transactionalIdPrefix: string;
  transactionTimeoutMs: number;
  allowedLatenessMs: number;
  /** How far a reading's ts may be ahead of its receipt and still move event time. */
  maxClockSkewMs: number;
  restoreTimeoutMs: number;
}

/**
 * Opens readings partitions for the alerts role: each gets a transactional producer of its own
 * (`<prefix>-<topic>-<partition>`, Kafka Streams' exactly-once per task), whose first transaction
 * fences whoever had the partition before, then its state from the changelog.
 */
export class AlertPartitions implements PartitionFactory {
  private readonly open_ = new Set<AlertPartition>();
  private rules: Rule[];

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: AlertPartitionsSettings,
    rules: Rule[],
    private readonly sites: SiteLookup,
    private readonly metrics: AlertMetrics,
    private readonly log: Logger,
  ) {
    this.rules = rules;
  }

  /** Swaps reloaded rules into every open partition (alerts of rules removed or changed resolve now). */
  setRules(rules: Rule[]): void {
    this.rules = rules;
    const now = Date.now();
    for (const partition of this.open_) partition.evaluator.setRules(rules, now);
  }

  /** Pending and firing lifecycles of the partitions open here. */
  active(): Array<ReturnType<PartitionEvaluator['active']>[number] & { partition: number }> {
    return [...this.open_].flatMap((p) => p.evaluator.active().map((a) => ({ ...a, partition: p.partition })));
  }

  async open(partitions: number[], heartbeat: () => Promise<void>): Promise<Map<number, OpenedPartition>> {
    const started = Date.now();
    const producers = new Map<number, Producer>();
    const markers = new Map<number, string>();
    try {
      for (const partition of partitions) {
        const producer = this.kafka.producer({
          transactionalId: `${this.settings.transactionalIdPrefix}-${this.settings.topics.input}-${partition}`,
          idempotent: true,
          maxInFlightRequests: 1,
          transactionTimeout: this.settings.transactionTimeoutMs,
        });
        producers.set(partition, producer);
        await producer.connect();
        const marker = newMarker();
        const transaction = await producer.transaction();
        await transaction.send({ topic: this.settings.topics.changelog, messages: changelogMessages(partition, [{ key: MARKER_KEY, value: marker }]) });
        await transaction.commit();
        markers.set(partition, marker);
      }
      const restored = await restorePartitions(this.kafka, this.settings.topics.changelog, markers, {
        groupPrefix: this.settings.groupId,
        timeoutMs: this.settings.restoreTimeoutMs,
        heartbeat,
        log: this.log,
      });
      const opened = new Map<number, OpenedPartition>();
      for (const partition of partitions) {
        const now = Date.now();
        const evaluator = new PartitionEvaluator(this.rules, this.sites, this.settings.allowedLatenessMs, now, this.settings.mode, this.settings.maxClockSkewMs);
        let meta: PartitionMeta | undefined;
        let ruleSet: RuleSetRecord | undefined;
        for (const [key, value] of restored.get(partition) ?? []) {
          if (key === META_KEY) meta = JSON.parse(value) as PartitionMeta;
          else if (key === RULES_KEY) ruleSet = JSON.parse(value) as RuleSetRecord;
          else evaluator.restore(JSON.parse(value) as SubjectState);
        }
        if (meta !== undefined) evaluator.restoreWatermark(meta.watermark);
        evaluator.restoreRuleSet(ruleSet, now);
        const processor = new AlertPartition(partition, evaluator, producers.get(partition)!, this.settings, this.metrics, this.log, meta?.nextOffset, () => this.open_.delete(processor));
        this.open_.add(processor);
        opened.set(partition, { processor, startOffset: meta?.nextOffset });
        this.log.info({ partition, subjects: evaluator.subjectCount, nextOffset: meta?.nextOffset ?? null }, 'alert state restored');
      }
      this.metrics.restoreSeconds.observe((Date.now() - started) / 1000);
      this.metrics.partitions.set(this.open_.size);
      return opened;
    } catch (err) {
      for (const producer of producers.values()) await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }
}

/** One readings partition: its evaluator, its transactional producer, and what is not yet durable. */
class AlertPartition implements PartitionProcessor {
  private nextOffset: string | undefined;
  private committedOffset: string | undefined;
  private reported = newCounters();
  private malformed = 0;

  constructor(
    readonly partition: number,
    readonly evaluator: PartitionEvaluator,
    private readonly producer: Producer,
    private readonly settings: AlertPartitionsSettings,
    private readonly metrics: AlertMetrics,
    private readonly log: Logger,
    restoredOffset: string | undefined,
    private readonly onClosed: () => void,
  ) {
    this.nextOffset = restoredOffset;
    this.committedOffset = restoredOffset;
  }

  process(messages: KafkaMessage[]): void {
    for (const message of messages) {
      const parsed = parseAlertInput(message.value);
      // On the site stream the reading carries when the cloud received it; a reading's own claim is not trusted.
      const receivedAt = this.settings.mode === 'sites' ? (parsed.ok ? parsed.input.receivedAt : undefined) : undefined;
      if (parsed.ok) this.evaluator.process(parsed.input, receivedAt ?? Number(message.timestamp));
      else this.reject(message, parsed.error);
      this.nextOffset = (BigInt(message.offset) + 1n).toString();
    }
    this.evaluator.advance();
  }

  /**
   * One transaction: the alerts, the readings for the site stream, the changed state, the watermark
   * and the offsets. Readers of the
   * alerts topic (read_committed) see an alert only once the state that produced it is durable, so
   * a crash or a rebalance makes the next owner redo exactly the uncommitted part.
   */
  async flush(): Promise<void> {
    this.evaluator.tick(Date.now());
    const alerts = this.evaluator.drain();
    const forwarded = this.evaluator.drainForwarded();
    const changes = this.evaluator.changes();
    const ruleSet = this.evaluator.ruleSetChange();
    if (alerts.length === 0 && changes.length === 0 && ruleSet === undefined && this.nextOffset === this.committedOffset) return;
    const entries = changes.map(({ key, state }) => ({ key, value: state === null ? null : JSON.stringify(state) }));
    if (ruleSet !== undefined) entries.push({ key: RULES_KEY, value: JSON.stringify(ruleSet) });
    if (this.nextOffset !== undefined) entries.push({ key: META_KEY, value: JSON.stringify({ watermark: this.evaluator.watermarkMs, nextOffset: this.nextOffset } satisfies PartitionMeta) });
    try {
      const transaction = await this.producer.transaction();
      try {
        for (const messages of chunksOfBytes(alerts.map(alertMessage))) await transaction.send({ topic: this.settings.topics.alerts, messages });
        const forwardedMessages = forwarded.map((input) => ({ key: input.siteId, value: JSON.stringify(input) }));
        for (const messages of chunksOfBytes(forwardedMessages)) await transaction.send({ topic: this.settings.siteStream, messages });
        for (const messages of chunksOfBytes(changelogMessages(this.partition, entries))) await transaction.send({ topic: this.settings.topics.changelog, messages });
        if (this.nextOffset !== undefined && this.nextOffset !== this.committedOffset) {
          await transaction.sendOffsets({
            consumerGroupId: this.settings.groupId,
            topics: [{ topic: this.settings.topics.input, partitions: [{ partition: this.partition, offset: this.nextOffset }] }],
          });
        }
        await transaction.commit();
      } catch (err) {
        await transaction.abort().catch(() => undefined);
        throw err;
      }
    } catch (err) {
      if (isFenced(err)) throw new PartitionLostError(this.partition, err);
      // The in-memory state is now ahead of what is durable: only a restore can make them agree again.
      throw new Error(`alerts partition ${this.partition}: the state could not be committed; restarting restores it from the changelog`, { cause: err });
    }
    this.committedOffset = this.nextOffset;
    this.report(alerts);
  }

  async close(orderly: boolean): Promise<void> {
    try {
      if (orderly) await this.flush();
    } finally {
      this.onClosed();
      this.metrics.partitions.dec();
      await this.producer.disconnect();
    }
  }

  private reject(message: KafkaMessage, error: string): void {
    this.malformed += 1;
    this.metrics.malformed.inc();
    // Logged at most once per thousand, so a stream of garbage cannot flood the log.
    if (this.malformed % 1000 === 1) this.log.warn({ partition: this.partition, offset: message.offset, error, malformed: this.malformed }, 'readings record skipped: not a reading');
  }

  private report(alerts: Alert[]): void {
    const now = { ...this.evaluator.counters };
    this.metrics.readings.inc(now.readings - this.reported.readings);
    this.metrics.duplicates.inc(now.duplicates - this.reported.duplicates);
    this.metrics.late.inc(now.late - this.reported.late);
    this.metrics.future.inc(now.future - this.reported.future);
    this.metrics.unknownSites.inc(now.unknownSites - this.reported.unknownSites);
    this.metrics.windowsClosed.inc(now.windowsClosed - this.reported.windowsClosed);
    this.reported = now;
    for (const alert of alerts) {
      this.metrics.alerts.inc({ state: alert.state, rule: alert.rule, severity: alert.severity });
      this.log.info({ alertId: alert.id, state: alert.state, rule: alert.rule, siteId: alert.siteId, deviceId: alert.deviceId, startsAt: alert.startsAt }, `alert ${alert.state}`);
    }
  }
}

function alertMessage(alert: Alert): { key: string; value: string; headers: Record<string, string> } {
  return { key: alert.id, value: JSON.stringify(alert), headers: { state: alert.state } };
}

/** Another producer with our transactional id has started: the partition belongs to it now. */
function isFenced(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause ?? (e as { originalError?: unknown }).originalError) {
    const type = (e as { type?: string }).type;
    if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED' || /fenced|producer epoch/i.test(e.message)) return true;
  }
  return false;
}
