/**
 * Start times at least `stepMs` apart, never in the past. Things started together (the devices of a
 * site found by one search) are spread out instead of going in lockstep ever after; one started
 * alone starts at once.
 */
export class Stagger {
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stepMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The next start time, in ms since 1970. */
  next(): number {
    this.lastAt = Math.max(this.now(), this.lastAt + this.stepMs);
    return this.lastAt;
  }
}
