/**
 * Start times at least `stepMs` apart, never in the past and never more than `windowMs` ahead.
 * Things started together (the devices of a site found by one search) are spread out instead of
 * going in lockstep ever after; one started alone starts at once. A burst too big for the window
 * starts over from the present, so no flood of newcomers can push a start time far off.
 */
export class Stagger {
  private lastAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly stepMs: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The next start time, in ms since 1970. */
  next(): number {
    const now = this.now();
    const after = this.lastAt + this.stepMs;
    this.lastAt = after > now + this.windowMs ? now : Math.max(now, after);
    return this.lastAt;
  }
}
