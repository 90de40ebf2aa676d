import { randomUUID } from 'node:crypto';
import { Counter, Histogram, type Registry } from 'prom-client';
import { ackFor } from '../../shared/contract/envelopes.js';
import type { Logger } from '../../shared/log.js';
import { parseReadingBatch } from '../../shared/reading-schema.js';
import { READING_SCHEMA_VERSION, type BatchAck } from '../../shared/reading.js';
import type { SiteRegistry } from '../sites/registry.js';
import type { SiteStatusBoard } from '../sites/status-board.js';
import type { IngestConfig } from './config.js';
import type { DeadLetter, ReadingSink } from './kafka-readings-sink.js';

/** Why a batch went to the dead-letter topic: the label of the counter, the `reason` header of the record. */
export type DeadLetterReason = 'too-large' | 'invalid' | 'foreign-site' | 'unknown-site' | 'site-disabled' | 'newer-contract';

/**
 * What became of one batch, whatever brought it:
 * - `ack`: Kafka has every reading; the site may forget them.
 * - `dead-letter`: Kafka has the payload on the dead-letter topic; `ack` is set when the batch was
 *   the site's own and its seqs can be told, so the site does not resend what will never parse.
 * - `unacked`: nothing is promised; the site resends (Kafka down, or a contract this cloud cannot read yet).
 */
export type IngestOutcome =
  | { kind: 'ack'; ack: BatchAck }
  | { kind: 'dead-letter'; reason: DeadLetterReason; detail: string; ack: BatchAck | undefined }
  | { kind: 'unacked'; reason: 'kafka-unavailable' | 'newer-contract'; detail: string };

/** Where a batch came from, for the dead letter's headers and the log. */
export interface BatchSource {
  transport: 'mqtt' | 'https';
  /** The MQTT topic or the HTTP route. */
  channel: string;
}

/**
 * The transport-neutral ingest: the site check, validation, the Kafka write and the decision to
 * acknowledge, in one place. MQTT and HTTPS adapters hand it a site id they authenticated (by the
 * broker's ACL on the topic, or by the site's secret) and the raw payload.
 */
export class IngestCore {
  private readonly outcomes: Counter;
  private readonly deadLetters: Counter;
  private readonly produceSeconds: Histogram;

  constructor(
    private readonly sink: ReadingSink,
    private readonly sites: SiteRegistry,
    private readonly status: SiteStatusBoard,
    private readonly limits: IngestConfig,
    metrics: Registry,
    private readonly log: Logger,
  ) {
    this.outcomes = new Counter({ name: 'echolake_ingest_batches_total', help: 'batches by outcome', labelNames: ['transport', 'outcome'], registers: [metrics] });
    this.deadLetters = new Counter({ name: 'echolake_ingest_dead_letters_total', help: 'batches dead-lettered, by reason', labelNames: ['reason'], registers: [metrics] });
    this.produceSeconds = new Histogram({
      name: 'echolake_ingest_kafka_produce_seconds',
      help: 'from a batch handed to Kafka to Kafka\'s acknowledgement (acks=all)',
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [metrics],
    });
  }

  async accept(siteId: string, payload: Buffer, source: BatchSource): Promise<IngestOutcome> {
    const outcome = await this.decide(siteId, payload, source);
    this.outcomes.inc({ transport: source.transport, outcome: outcome.kind });
    return outcome;
  }

  private async decide(siteId: string, payload: Buffer, source: BatchSource): Promise<IngestOutcome> {
    const site = this.sites.get(siteId);
    // The topic (or the credentials) name the site; it must be one we know and have not switched off.
    if (site === undefined) return this.deadLetter(siteId, payload, source, 'unknown-site', `site ${siteId} is not in the registry`, undefined);
    if (!site.enabled) return this.deadLetter(siteId, payload, source, 'site-disabled', `site ${siteId} is disabled`, undefined);
    if (payload.length > this.limits.maxBatchBytes) {
      const detail = `batch of ${payload.length} bytes is over ingest.maxBatchBytes ${this.limits.maxBatchBytes}; lower the edge's uplink.batchMaxBytes`;
      return this.deadLetter(siteId, payload, source, 'too-large', detail, ackForUnreadable(siteId, payload));
    }
    const parsed = parseReadingBatch(payload);
    if (!parsed.ok) {
      if (speaksNewerContract(payload)) {
        await this.sink.writeDeadLetter(this.letter(siteId, payload, source, 'newer-contract', parsed.error));
        this.log.warn({ siteId, ...source, err: parsed.error }, 'batch from a newer contract version left unacknowledged; the site keeps it');
        return { kind: 'unacked', reason: 'newer-contract', detail: parsed.error };
      }
      return this.deadLetter(siteId, payload, source, 'invalid', parsed.error, ackForUnreadable(siteId, payload));
    }
    const batch = parsed.value;
    // A site may only speak for itself: no ack goes out for a batch that names another site.
    if (batch.siteId !== siteId) {
      return this.deadLetter(siteId, payload, source, 'foreign-site', `batch claims site ${batch.siteId.slice(0, 64)} but came from site ${siteId}`, undefined);
    }
    const first = batch.readings[0];
    const last = batch.readings[batch.readings.length - 1];
    if (first === undefined || last === undefined) return this.deadLetter(siteId, payload, source, 'invalid', 'no readings', undefined);
    const timer = this.produceSeconds.startTimer();
    try {
      const placed = await this.sink.writeBatch(batch);
      timer();
      this.status.batchInKafka(siteId, batch.readings);
      this.log.info(
        { siteId, batchId: batch.batchId, firstSeq: first.seq, lastSeq: last.seq, readings: batch.readings.length, kafka: placed, transport: source.transport },
        'batch in kafka',
      );
      return { kind: 'ack', ack: ackFor(siteId, batch.batchId, last.seq) };
    } catch (err) {
      this.log.error({ siteId, batchId: batch.batchId, err }, 'kafka write failed; batch left for the site to resend');
      return { kind: 'unacked', reason: 'kafka-unavailable', detail: 'Kafka did not take the batch; send it again later' };
    }
  }

  /**
   * Keeps what could not be taken, whole, on the dead-letter topic before anything is promised: if
   * Kafka refuses even that, the batch is left unacknowledged and the site resends it.
   */
  private async deadLetter(
    siteId: string,
    payload: Buffer,
    source: BatchSource,
    reason: DeadLetterReason,
    detail: string,
    ack: BatchAck | undefined,
  ): Promise<IngestOutcome> {
    this.deadLetters.inc({ reason });
    try {
      await this.sink.writeDeadLetter(this.letter(siteId, payload, source, reason, detail));
    } catch (err) {
      this.log.error({ siteId, reason, err }, 'dead-letter write failed; batch left for the site to resend');
      return { kind: 'unacked', reason: 'kafka-unavailable', detail: 'Kafka did not take the dead letter; send it again later' };
    }
    this.log.warn({ siteId, ...source, bytes: payload.length, reason, detail, acked: ack !== undefined }, 'batch dead-lettered');
    return { kind: 'dead-letter', reason, detail, ack };
  }

  private letter(siteId: string, payload: Buffer, source: BatchSource, reason: DeadLetterReason, detail: string): DeadLetter {
    return { id: randomUUID(), siteId, source: `${source.transport}:${source.channel}`, reason, detail: detail.slice(0, 1000), payload };
  }
}

/**
 * The batch id and highest seq of a batch that failed validation, where they can be told: the site
 * then moves on instead of resending a batch that will never parse and stalling its outbox.
 */
function ackForUnreadable(siteId: string, payload: Buffer): BatchAck | undefined {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch {
    return undefined;
  }
  const candidate = json as { siteId?: unknown; batchId?: unknown; readings?: unknown };
  if (candidate.siteId !== siteId || typeof candidate.batchId !== 'string' || !Array.isArray(candidate.readings)) return undefined;
  let lastSeq = 0;
  for (const reading of candidate.readings as Array<{ seq?: unknown } | null>) {
    const seq = reading?.seq;
    if (typeof seq === 'number' && Number.isSafeInteger(seq) && seq > lastSeq) lastSeq = seq;
  }
  return lastSeq === 0 ? undefined : ackFor(siteId, candidate.batchId.slice(0, 64), lastSeq);
}

/** Whether the batch, or any reading in it, says it follows a later contract than this cloud reads. */
function speaksNewerContract(payload: Buffer): boolean {
  try {
    const json = JSON.parse(payload.toString()) as { v?: unknown; readings?: unknown };
    const versions = [json.v, ...(Array.isArray(json.readings) ? (json.readings as Array<{ v?: unknown } | null>).map((r) => r?.v) : [])];
    return versions.some((v) => typeof v === 'number' && v > READING_SCHEMA_VERSION);
  } catch {
    return false;
  }
}
