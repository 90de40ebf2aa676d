/**
 * How many EPCs one device takes per Get, learned from its answers; starts at the configured maximum.
 *
 * A truncated answer (fewer EPCs than asked) states the limit outright. A batch refused wholesale
 * (Get_SNA with nothing filled) only says the limit is below that batch, so the size is bisected
 * between the largest batch answered and the smallest refused: it settles on the real limit in a few
 * requests, once, instead of halving past it. A limit learned from a refusal is re-checked every
 * `recheckAfterCycles` cycles, because a device that refused once while busy must not lose
 * one-frame polling for good; a device with a real limit pays a few refused requests per re-check.
 */
export const DEFAULT_RECHECK_AFTER_CYCLES = 100;

export class BatchSizeLearner {
  /** Largest batch the device answered; 0 until it answered one. */
  private answeredUpTo = 0;
  /** Smallest batch the device refused or cut short; undefined while it took everything. */
  private refusedFrom: number | undefined;
  private cyclesSinceRefusal = 0;

  constructor(
    private readonly maxSize: number,
    private readonly recheckAfterCycles = DEFAULT_RECHECK_AFTER_CYCLES,
  ) {}

  get size(): number {
    if (this.refusedFrom === undefined) return this.maxSize;
    return Math.max(1, Math.floor((this.answeredUpTo + this.refusedFrom) / 2));
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

  /** A batch of `length` EPCs was refused as a whole. */
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
