/**
 * How many EPCs one device takes per Get, learned from its answers; starts at the configured maximum.
 *
 * A truncated answer (fewer EPCs than asked) states the limit outright. A batch refused for its size
 * (Get_SNA with nothing filled, or silence, confirmed by poll-cycle.ts once a smaller batch of the
 * same device was answered) only says the limit is below that batch, so the size is bisected
 * between the largest batch answered and the smallest refused: it settles on the real limit in a few
 * requests, once, instead of halving past it. A limit learned from a refusal is re-checked every
 * `recheckAfterCycles` cycles, because a device that refused once while busy must not lose
 * one-frame polling for good; a device with a real limit pays a few refused requests per re-check.
 */
export const DEFAULT_RECHECK_AFTER_CYCLES = 100;

/** What a learner knows, to keep across restarts. */
export interface BatchSizeSnapshot {
  readonly answeredUpTo: number;
  /** null while the device took everything. */
  readonly refusedFrom: number | null;
}

export class BatchSizeLearner {
  /** Largest batch the device answered; 0 until it answered one. */
  private answeredUpTo = 0;
  /** Smallest batch the device refused or cut short; undefined while it took everything. */
  private refusedFrom: number | undefined;
  private cyclesSinceRefusal = 0;

  constructor(
    private readonly maxSize: number,
    private readonly recheckAfterCycles = DEFAULT_RECHECK_AFTER_CYCLES,
    restored?: BatchSizeSnapshot,
  ) {
    if (restored === undefined) return;
    this.answeredUpTo = Math.max(0, Math.min(maxSize, restored.answeredUpTo));
    this.refusedFrom = restored.refusedFrom === null ? undefined : Math.max(1, restored.refusedFrom);
  }

  snapshot(): BatchSizeSnapshot {
    return { answeredUpTo: this.answeredUpTo, refusedFrom: this.refusedFrom ?? null };
  }

  get size(): number {
    if (this.refusedFrom === undefined) return this.maxSize;
    return Math.max(1, Math.floor((this.answeredUpTo + this.refusedFrom) / 2));
  }

  /** The largest batch the device answered (since its last refusal): silence at this size or below is not about size. */
  get provenSize(): number {
    return this.answeredUpTo;
  }

  /** A batch of `length` EPCs came back complete (values or single refusals, but every EPC mentioned). */
  answered(length: number): void {
    this.answeredUpTo = Math.max(this.answeredUpTo, length);
  }

  /** The device answered only the first `answeredCount` EPCs of a batch. */
  truncated(answeredCount: number): void {
    this.answeredUpTo = answeredCount;
    this.refusedFrom = answeredCount + 1;
    this.cyclesSinceRefusal = 0;
  }

  /** A batch of `length` EPCs was too big for the device: refused as a whole, or met with silence. */
  refused(length: number): void {
    this.refusedFrom = Math.min(this.refusedFrom ?? Number.POSITIVE_INFINITY, length);
    this.answeredUpTo = Math.min(this.answeredUpTo, length - 1);
    this.cyclesSinceRefusal = 0;
  }

  /** Counts cycles towards the re-check of a learned limit. */
  cycleEnded(): void {
    if (this.refusedFrom === undefined) return;
    this.cyclesSinceRefusal += 1;
    if (this.cyclesSinceRefusal >= this.recheckAfterCycles) this.refusedFrom = undefined;
  }
}
