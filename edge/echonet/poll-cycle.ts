/**
 * One poll cycle of one device: its EPCs in Gets of the size it takes, learning from every answer
 * and every silence.
 *
 *  - A truncated answer states the device's limit (batch-size.ts).
 *  - A batch refused wholesale (Get_SNA, nothing filled) is split in halves until we know why: if a
 *    smaller piece of it comes back with values, the size was the problem and the limit is learned;
 *    if every EPC of it is refused on its own too, the device lacks those EPCs (unsupported-epcs.ts)
 *    and its batch size is left alone.
 *  - A multi-EPC Get that times out (after the channel's retries) may be a unit that drops big Gets
 *    without a word: once the device answers something smaller this cycle (a one-EPC probe if
 *    nothing yet), the timed-out size counts against its limit and the batch is asked again in
 *    smaller pieces. Only a device that answers nothing at all fails the cycle. Silence at a size
 *    the device has answered before is no size problem: the cycle fails at once (a mute unit is
 *    noticed as fast as ever) unless the device is already failing, when a probe costs little.
 *  - Every request is bound to the node the device lives on (node-table.ts): an answer that arrives
 *    once the address belongs to another node is dropped and counted, never read as the device's.
 */
import type { BatchSizeLearner } from './batch-size.js';
import type { Eoj } from './eoj.js';
import { ESV } from './esv.js';
import { type Property, allProperties } from './frame.js';
import type { NodeChannel } from './node-channel.js';
import { type ReceivedFrame, EchonetRequestError } from './transport.js';
import type { UnsupportedEpcs } from './unsupported-epcs.js';

/** All the poller needs of a node channel. */
export type GetChannel = Pick<NodeChannel, 'get'>;

/** Per device, since the controller started. */
export interface DevicePollStats {
  requests: number;
  answers: number;
  /** Gets (after their retries) that got no answer. */
  timeouts: number;
  /** Attempts after a first that timed out. */
  retries: number;
  getSna: number;
  /** Answers that arrived after the device's address went to another node: dropped, not read as the device's. */
  foreignAnswersDropped: number;
}

export function freshPollStats(): DevicePollStats {
  return { requests: 0, answers: 0, timeouts: 0, retries: 0, getSna: 0, foreignAnswersDropped: 0 };
}

export interface CycleDevice {
  readonly eoj: Eoj;
  readonly batchSize: BatchSizeLearner;
  readonly unsupported: UnsupportedEpcs;
  readonly stats: DevicePollStats;
}

export interface CycleResult {
  /** Values from the device's own answers; refused EPCs (PDC 0) are left out. */
  readonly properties: readonly Property[];
  readonly receivedAt: Date | undefined;
  /** The device answered at least one Get this cycle. */
  readonly answered: boolean;
  /** Why the cycle ended before its last EPC, if it did. */
  readonly error: unknown;
  /** The device's address went to another node during the cycle (the device moved). */
  readonly lostBinding: boolean;
}

interface Refusal {
  readonly size: number;
  readonly epcs: ReadonlySet<number>;
}

const isTimeout = (error: unknown): boolean => error instanceof EchonetRequestError && error.code === 'TIMEOUT';

export class PollCycle {
  private readonly queue: number[];
  private readonly collected: Property[] = [];
  private receivedAt: Date | undefined;
  private answeredAny = false;
  /** Sizes of batches that timed out before the device answered anything this cycle. */
  private timedOutSizes: number[] = [];
  private refusals: Refusal[] = [];

  constructor(
    private readonly channel: GetChannel,
    private readonly device: CycleDevice,
    epcs: readonly number[],
    private readonly isBound: () => boolean,
    private readonly stopped: () => boolean,
    /** Probe even after silence at a proven size (the device failed its last cycles). */
    private readonly probeAlways = false,
  ) {
    this.queue = device.unsupported.worthAsking(epcs);
  }

  async run(): Promise<CycleResult> {
    while (this.queue.length > 0 && !this.stopped()) {
      const batch = this.queue.splice(0, this.nextSize());
      let received: ReceivedFrame;
      try {
        this.device.stats.requests += 1;
        received = await this.channel.get(this.device.eoj, batch, this.isBound, this.countRetry);
      } catch (error) {
        if (!isTimeout(error)) return this.end(error);
        this.device.stats.timeouts += 1;
        if (!this.timedOut(batch)) return this.end(error);
        continue;
      }
      if (!this.isBound()) {
        this.device.stats.foreignAnswersDropped += 1;
        return this.end(new Error('the address went to another node'));
      }
      this.countAnswer(received);
      this.learnFrom(batch, received);
    }
    return this.end(undefined);
  }

  private readonly countRetry = (): void => {
    this.device.stats.retries += 1;
  };

  private nextSize(): number {
    if (this.timedOutSizes.length > 0) return 1; // is anybody there?
    const smallestRefused = Math.min(...this.refusals.map((r) => r.size));
    const cap = Number.isFinite(smallestRefused) ? Math.max(1, Math.floor(smallestRefused / 2)) : Number.POSITIVE_INFINITY;
    return Math.min(this.device.batchSize.size, cap);
  }

  /** True when the cycle goes on with smaller Gets; false when the silence ends it. */
  private timedOut(batch: readonly number[]): boolean {
    if (batch.length === 1) return false;
    if (!this.answeredAny && !this.probeAlways && batch.length <= this.device.batchSize.provenSize) return false;
    this.queue.unshift(...batch);
    if (this.answeredAny) this.device.batchSize.refused(batch.length);
    else this.timedOutSizes.push(batch.length);
    return true;
  }

  private countAnswer(received: ReceivedFrame): void {
    this.device.stats.answers += 1;
    if (received.frame.esv === ESV.GetSna) this.device.stats.getSna += 1;
    this.answeredAny = true;
    this.receivedAt = received.receivedAt;
    // It is alive, so the batches it let time out were too big for it.
    for (const size of this.timedOutSizes.splice(0)) this.device.batchSize.refused(size);
  }

  private learnFrom(batch: readonly number[], received: ReceivedFrame): void {
    const asked = new Set(batch);
    const answered = allProperties(received.frame).filter((p) => asked.has(p.epc));
    const withData = answered.filter((p) => p.edt.length > 0);
    if (withData.length === 0) {
      this.refusedWholesale(batch);
      return;
    }
    this.collected.push(...withData);
    for (const p of withData) this.device.unsupported.answered(p.epc);
    // PDC 0 beside values: the device took the batch and lacks these.
    for (const p of answered) if (p.edt.length === 0) this.device.unsupported.refused(p.epc);
    this.confirmRefusals(withData);
    const mentioned = new Set(answered.map((p) => p.epc));
    const missing = batch.filter((epc) => !mentioned.has(epc));
    if (missing.length > 0) {
      this.device.batchSize.truncated(answered.length);
      this.queue.unshift(...missing);
    } else {
      this.device.batchSize.answered(batch.length);
    }
    this.dropSettledRefusals();
  }

  private refusedWholesale(batch: readonly number[]): void {
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) {
      this.device.unsupported.refused(only);
    } else {
      this.refusals.push({ size: batch.length, epcs: new Set(batch) });
      this.queue.unshift(...batch);
    }
    this.dropSettledRefusals();
  }

  /** Values for EPCs of a batch refused wholesale: that batch was refused for its size. */
  private confirmRefusals(withData: readonly Property[]): void {
    this.refusals = this.refusals.filter((refusal) => {
      if (!withData.some((p) => refusal.epcs.has(p.epc))) return true;
      this.device.batchSize.refused(refusal.size);
      return false;
    });
  }

  /** A refused batch whose every EPC turned out unsupported says nothing about the size. */
  private dropSettledRefusals(): void {
    this.refusals = this.refusals.filter((refusal) => this.device.unsupported.worthAsking([...refusal.epcs]).length > 0);
  }

  private end(error: unknown): CycleResult {
    return { properties: this.collected, receivedAt: this.receivedAt, answered: this.answeredAny, error, lostBinding: !this.isBound() };
  }
}
