import type { Logger } from '../../shared/log.js';
import { batchIdOf, encodeBatch } from '../../shared/contract/envelopes.js';
import { parseBatchAck } from '../../shared/reading-schema.js';
import type { RepeatedWarnings } from '../../shared/repeated-warnings.js';

export interface SeqRange {
  firstSeq: number;
  lastSeq: number;
}

export interface StoredBatch extends SeqRange {
  payloads: string[];
  bytes: number;
  oldestAt: number;
  /** The count or byte bound was reached: waiting would not make it bigger. */
  full: boolean;
}

/**
 * What the uplink needs of the store: the oldest unsent readings, the batch in flight (which
 * outlives a restart), and a way to mark readings delivered.
 */
export interface OutboxPort {
  oldestUnsent(maxCount: number, maxBytes: number): StoredBatch | undefined;
  inFlight(): SeqRange | undefined;
  markInFlight(range: SeqRange): void;
  readRange(range: SeqRange): StoredBatch | undefined;
  acknowledge(lastSeq: number): number;
  /** Readings not yet acknowledged and when the oldest was received (ms), for the status message. */
  backlog(): Backlog;
}

export interface Backlog {
  backlog: number;
  oldestUnsentAt: number | undefined;
}

/** The batch in flight, as a transport sends it. */
export interface OutgoingBatch {
  batchId: string;
  lastSeq: number;
  /** The batch envelope (shared/contract/envelopes.ts), JSON. */
  payload: string;
  count: number;
  bytes: number;
  sentAt: number;
  attempts: number;
}

export interface DeliveryOptions {
  siteId: string;
  batchMaxReadings: number;
  batchMaxBytes: number;
  /** A batch that is not full waits at most this long after its oldest reading before it goes. */
  batchMaxAgeMs: number;
  /** The first wait for the cloud's ack before the same batch goes again; it doubles per resend… */
  ackTimeoutMs: number;
  /** …up to this. */
  ackTimeoutMaxMs: number;
}

/** Why an ack was not taken; each is counted. */
export type AckRejection = 'malformed' | 'otherSite' | 'notInFlight' | 'wrongTopic';

export type AckVerdict = 'accepted' | AckRejection | 'duplicate' | 'unrecorded';

export interface DeliveryStatus {
  batchesAcknowledged: number;
  readingsAcknowledged: number;
  resends: number;
  lastAckAt: string | undefined;
  inFlight: { batchId: string; attempts: number } | undefined;
  /** Acks not taken, by reason: none of them touched the outbox. */
  acksRejected: Record<AckRejection, number>;
  /** The wait for the current batch's ack, grown by its resends. */
  ackTimeoutMs: number;
}

/** How long the uplink waits before it asks a failing store for the next batch again. */
const STORE_RETRY_MS = 5_000;

/** Up to a quarter on top of each ack wait, so sites that lost the cloud together do not resend together. */
const ACK_JITTER = 0.25;

/**
 * The uplink's protocol, whatever carries it: the store's unsent readings go one batch at a time,
 * and the next leaves only after the cloud acknowledged the previous one, which it does only once
 * Kafka holds the batch. Without an ack the same batch, with the same seqs, goes again, each time
 * after a longer wait (an overloaded cloud gets fewer copies, not more), and an ack that arrives
 * late for the batch still in flight is taken all the same. So a site's readings arrive in order,
 * and a duplicate is always a whole resent batch, which the lake drops.
 *
 * An ack counts only for the batch in flight and this site; anything else is counted and ignored.
 */
export class BatchDelivery {
  private inFlight: OutgoingBatch | undefined;
  private linkUp = false;
  private stopped = false;
  private ackTimer: NodeJS.Timeout | undefined;
  /** A later look at the outbox: a young batch lingering for more readings, or a store that failed. */
  private pumpTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private ackWaitMs: number;
  /** The batch bounds; halved when the cloud says a batch is too large. */
  private readonly limits: { readings: number; bytes: number };
  private lastAckedBatchId: string | undefined;
  private lastAckAt: string | undefined;
  private readonly counters = { batchesAcknowledged: 0, readingsAcknowledged: 0, resends: 0 };
  private readonly rejected: Record<AckRejection, number> = { malformed: 0, otherSite: 0, notInFlight: 0, wrongTopic: 0 };

  constructor(
    private readonly options: DeliveryOptions,
    private readonly outbox: OutboxPort,
    private readonly send: (batch: OutgoingBatch) => void,
    private readonly log: Logger,
    private readonly warnings: RepeatedWarnings,
  ) {
    this.ackWaitMs = options.ackTimeoutMs;
    this.limits = { readings: options.batchMaxReadings, bytes: options.batchMaxBytes };
  }

  /** The transport can carry a batch now: the one in flight waits for its ack (the transport resends what it must), else the next goes. */
  linkIsUp(): void {
    this.linkUp = true;
    if (this.inFlight !== undefined) this.armAckTimer();
    else this.pump();
  }

  linkIsDown(): void {
    this.linkUp = false;
  }

  /** New readings are in the store: send them if nothing is in flight. */
  notify(): void {
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of [this.ackTimer, this.pumpTimer, this.retryTimer]) clearTimeout(timer);
  }

  status(): DeliveryStatus {
    const inFlight = this.inFlight && { batchId: this.inFlight.batchId, attempts: this.inFlight.attempts };
    return { ...this.counters, lastAckAt: this.lastAckAt, inFlight, acksRejected: { ...this.rejected }, ackTimeoutMs: this.ackWaitMs };
  }

  /** Counts an ack refused before it got here (a topic that is not the site's acks topic), with a rate-limited warning. */
  reject(reason: AckRejection, fields: Record<string, unknown>, msg: string): void {
    this.rejected[reason] += 1;
    this.warnings.warn(`ack-${reason}`, { siteId: this.options.siteId, ...fields, rejected: this.rejected[reason] }, msg);
  }

  /** An ack as the transport received it (JSON); taken only for this site's batch in flight. */
  offerAck(payload: Buffer | string, via: Record<string, unknown> = {}): AckVerdict {
    const parsed = parseBatchAck(payload);
    if (!parsed.ok) {
      this.reject('malformed', { ...via, error: parsed.error }, 'malformed acknowledgement ignored');
      return 'malformed';
    }
    const ack = parsed.value;
    if (ack.siteId !== this.options.siteId) {
      this.reject('otherSite', { ...via, ackSiteId: ack.siteId, batchId: ack.batchId }, "acknowledgement for another site's batch ignored");
      return 'otherSite';
    }
    const batch = this.inFlight;
    if (batch === undefined || ack.batchId !== batch.batchId) {
      if (ack.batchId === this.lastAckedBatchId) {
        // The cloud's ack of an earlier copy of a resent batch: expected, nothing to do.
        this.log.debug({ siteId: this.options.siteId, batchId: ack.batchId }, 'second acknowledgement of a delivered batch ignored');
        return 'duplicate';
      }
      this.reject('notInFlight', { ...via, batchId: ack.batchId, inFlight: batch?.batchId }, 'acknowledgement for a batch not in flight ignored');
      return 'notInFlight';
    }
    if (ack.lastSeq !== batch.lastSeq) {
      // The cloud handled this batch (in Kafka or, unreadable, as a dead letter) and could not
      // tell all of its seqs. The batch is done as a whole: taking part of it back into the
      // outbox would send its tail again under another batch id.
      this.log.warn({ siteId: this.options.siteId, batchId: batch.batchId, ackLastSeq: ack.lastSeq }, 'acknowledgement names another last seq; the whole batch counts as delivered');
    }
    return this.delivered(batch);
  }

  /**
   * This attempt ended without an ack (the cloud answered 503, the request failed): the same
   * batch goes again after `delayMs`, and no ack timeout runs meanwhile.
   */
  retryIn(delayMs: number): void {
    clearTimeout(this.ackTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.resend();
    }, delayMs);
  }

  /**
   * The cloud refused the batch in flight as too large: it was not taken, so it is cut to half
   * its readings (and bytes), and so is every batch after it, and sent again at once. One reading
   * cannot be halved: it goes again after `delayMs`, and the error says why it stays.
   */
  tooLarge(delayMs: number): void {
    const batch = this.inFlight;
    if (batch === undefined) return;
    clearTimeout(this.ackTimer);
    if (batch.count === 1) {
      this.log.error({ siteId: this.options.siteId, batchId: batch.batchId, bytes: batch.bytes }, 'the cloud refuses even a single reading as too large; it stays in the outbox and is offered again');
      this.retryIn(delayMs);
      return;
    }
    this.limits.readings = Math.max(1, Math.floor(batch.count / 2));
    this.limits.bytes = Math.max(1, Math.floor(batch.bytes / 2));
    this.log.warn({ siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, bytes: batch.bytes, limits: this.limits }, 'the cloud refused the batch as too large; batches halved');
    this.inFlight = undefined;
    let smaller: StoredBatch | undefined;
    try {
      smaller = this.outbox.oldestUnsent(this.limits.readings, this.limits.bytes);
      if (smaller !== undefined) this.outbox.markInFlight(smaller);
    } catch (err) {
      this.retryAfterStoreFailure('cutting a batch in half', err);
      return;
    }
    if (smaller !== undefined) this.start(smaller);
  }

  private pump(): void {
    if (!this.linkUp || this.stopped || this.inFlight !== undefined) return;
    let pending: StoredBatch | undefined;
    try {
      pending = this.nextBatch();
    } catch (err) {
      this.retryAfterStoreFailure('reading the next batch', err);
      return;
    }
    if (pending !== undefined) this.start(pending);
  }

  private start(pending: StoredBatch): void {
    const batchId = batchIdOf(pending.firstSeq, pending.lastSeq);
    this.inFlight = {
      batchId,
      lastSeq: pending.lastSeq,
      payload: encodeBatch(this.options.siteId, batchId, pending.payloads),
      count: pending.payloads.length,
      bytes: pending.bytes,
      sentAt: 0,
      attempts: 0,
    };
    this.ackWaitMs = this.options.ackTimeoutMs;
    this.transmit();
  }

  /**
   * The store failed under the uplink (a full disk, an I/O error): nothing was sent or marked, so
   * nothing is lost; the same step is tried again later rather than the process crashing in a
   * transport's handler. The watchdog's health check, which follows the store's commits, decides
   * about restarts.
   */
  private retryAfterStoreFailure(step: string, err: unknown): void {
    this.log.error({ siteId: this.options.siteId, err, step }, 'reading store failed under the uplink; will retry');
    this.pumpLater(STORE_RETRY_MS);
  }

  /** The batch a restart interrupted, exactly as it was; otherwise the oldest unsent readings once the batch is full or old enough. */
  private nextBatch(): StoredBatch | undefined {
    const interrupted = this.outbox.inFlight();
    const resumed = interrupted && this.outbox.readRange(interrupted);
    if (resumed !== undefined) return resumed;
    const pending = this.outbox.oldestUnsent(this.limits.readings, this.limits.bytes);
    if (pending === undefined) return undefined;
    // Clamped: a clock stepped back must not hold a batch for longer than its age limit.
    const waitMs = Math.min(this.options.batchMaxAgeMs, pending.oldestAt + this.options.batchMaxAgeMs - Date.now());
    if (!pending.full && waitMs > 0) {
      // Not full and young: let more readings join it rather than send a trickle of small messages.
      this.pumpLater(waitMs);
      return undefined;
    }
    this.outbox.markInFlight(pending);
    return pending;
  }

  /** Pumps after `delayMs`, unless a pump is due already. */
  private pumpLater(delayMs: number): void {
    this.pumpTimer ??= setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, delayMs);
  }

  private transmit(): void {
    const batch = this.inFlight;
    if (batch === undefined || this.stopped) return;
    batch.attempts += 1;
    batch.sentAt = Date.now();
    this.log.debug({ siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, attempt: batch.attempts }, 'batch sent');
    this.armAckTimer();
    this.send(batch);
  }

  private armAckTimer(): void {
    clearTimeout(this.ackTimer);
    const waitMs = Math.round(this.ackWaitMs * (1 + Math.random() * ACK_JITTER));
    this.ackTimer = setTimeout(() => this.onAckTimeout(), waitMs);
  }

  /** No ack in time: the same batch again, and a longer wait for it, up to the cap. */
  private onAckTimeout(): void {
    const batch = this.inFlight;
    if (batch === undefined || !this.linkUp) return;
    this.ackWaitMs = Math.min(this.options.ackTimeoutMaxMs, this.ackWaitMs * 2);
    this.log.warn({ siteId: this.options.siteId, batchId: batch.batchId, attempts: batch.attempts, nextWaitMs: this.ackWaitMs }, 'no acknowledgement; sending the batch again');
    this.resend();
  }

  private resend(): void {
    if (this.inFlight === undefined || this.stopped) return;
    if (!this.linkUp) return; // linkIsUp arms the ack timer again
    this.counters.resends += 1;
    this.transmit();
  }

  private delivered(batch: OutgoingBatch): AckVerdict {
    let covered: number;
    try {
      covered = this.outbox.acknowledge(batch.lastSeq);
    } catch (err) {
      // Still in flight: the ack timeout sends it again, and the cloud's next ack retries this.
      this.log.error({ siteId: this.options.siteId, batchId: batch.batchId, err }, 'reading store failed to record an acknowledgement; the batch stays in flight');
      return 'unrecorded';
    }
    clearTimeout(this.ackTimer);
    clearTimeout(this.retryTimer);
    this.counters.batchesAcknowledged += 1;
    this.counters.readingsAcknowledged += covered;
    this.lastAckAt = new Date().toISOString();
    this.lastAckedBatchId = batch.batchId;
    this.log.info(
      { siteId: this.options.siteId, batchId: batch.batchId, readings: batch.count, attempts: batch.attempts, roundTripMs: Date.now() - batch.sentAt },
      'batch acknowledged by the cloud',
    );
    this.inFlight = undefined;
    this.ackWaitMs = this.options.ackTimeoutMs;
    this.pump();
    return 'accepted';
  }
}
