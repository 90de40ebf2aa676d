/**
 * Event-time windows, pure: which windows a timestamp falls into, what a window accumulates, and
 * when a watermark closes it. Nothing here knows Kafka, rules or alerts.
 *
 * Windows are aligned to the epoch (as in Kafka Streams and Flink): a window of `sizeMs` starts at
 * every multiple of `hopMs`; `hopMs === sizeMs` is a tumbling window, `hopMs < sizeMs` a hopping one.
 * A window [start, start + size) closes once the watermark reaches `start + size + allowedLateness`.
 */

export type AggregateName = 'avg' | 'min' | 'max' | 'sum' | 'count' | 'delta' | 'rate';

export interface WindowSpec {
  sizeMs: number;
  hopMs: number;
}

/** Starts of every window that holds `ts`, oldest first. */
export function windowStarts(ts: number, spec: WindowSpec): number[] {
  const starts: number[] = [];
  // The newest window holding ts starts at the hop boundary at or before it; older ones hop back while ts is still inside.
  for (let start = Math.floor(ts / spec.hopMs) * spec.hopMs; start > ts - spec.sizeMs; start -= spec.hopMs) starts.unshift(start);
  return starts;
}

/**
 * What a window remembers of the values it saw: enough for every aggregate, in constant space.
 * `reference` is the last value of a second property (a threshold such as `targetTemperature + 3`
 * refers to it), taken from the same readings as the value.
 */
export interface Accumulator {
  start: number;
  /** Readings of the subject in the window, matching the rule's filter or not. */
  seen: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  firstTs: number;
  first: number;
  lastTs: number;
  last: number;
  reference: number | null;
}

export function emptyAccumulator(start: number): Accumulator {
  return { start, seen: 0, count: 0, sum: 0, min: Infinity, max: -Infinity, firstTs: Infinity, first: 0, lastTs: -Infinity, last: 0, reference: null };
}

/** Adds one value at event time `ts`; readings may come out of order, so first and last follow `ts`. */
export function accumulate(acc: Accumulator, ts: number, value: number, reference: number | null): void {
  acc.count += 1;
  acc.sum += value;
  if (value < acc.min) acc.min = value;
  if (value > acc.max) acc.max = value;
  if (ts < acc.firstTs) {
    acc.firstTs = ts;
    acc.first = value;
  }
  if (ts >= acc.lastTs) {
    acc.lastTs = ts;
    acc.last = value;
    if (reference !== null) acc.reference = reference;
  } else if (acc.reference === null && reference !== null) {
    acc.reference = reference;
  }
}

/** The aggregate of a closed window, or undefined when it saw no value (nothing to judge). */
export function aggregate(acc: Accumulator, name: AggregateName): number | undefined {
  if (acc.count === 0) return undefined;
  switch (name) {
    case 'avg':
      return acc.sum / acc.count;
    case 'min':
      return acc.min;
    case 'max':
      return acc.max;
    case 'sum':
      return acc.sum;
    case 'count':
      return acc.count;
    case 'delta':
      return acc.last - acc.first;
    case 'rate': {
      // Per second between the first and the last value; one value (or one instant) has no rate.
      const seconds = (acc.lastTs - acc.firstTs) / 1000;
      return seconds > 0 ? (acc.last - acc.first) / seconds : undefined;
    }
  }
}

/**
 * The open windows of one subject under one rule are a small array sorted by start (size / hop plus
 * lateness / hop windows at most), so a linear search beats any map. Returns the window starting at
 * `start`, created (in order) if missing: the caller sees creation as a longer array.
 */
export function windowAt(windows: Accumulator[], start: number): Accumulator {
  let index = windows.length;
  while (index > 0 && windows[index - 1]!.start >= start) {
    if (windows[index - 1]!.start === start) return windows[index - 1]!;
    index -= 1;
  }
  const window = emptyAccumulator(start);
  windows.splice(index, 0, window);
  return window;
}

/** Takes out, oldest first, every window whose end plus lateness the watermark has reached. */
export function takeClosed(windows: Accumulator[], spec: WindowSpec, allowedLatenessMs: number, watermark: number): Accumulator[] {
  let closed = 0;
  while (closed < windows.length && windows[closed]!.start + spec.sizeMs + allowedLatenessMs <= watermark) closed += 1;
  return closed === 0 ? [] : windows.splice(0, closed);
}

/** JSON has no Infinity: an accumulator read back from a snapshot gets its empty bounds again. */
export function revivedAccumulator(acc: Accumulator): Accumulator {
  if (acc.count > 0) return acc;
  return { ...emptyAccumulator(acc.start), seen: acc.seen, reference: acc.reference };
}

/** How far a gateway's clock may run ahead of (or behind) the cloud's before its readings stop moving (or following) event time. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 300_000;

/**
 * Whether a reading's own time may move a watermark: not when it claims a time later than the cloud
 * received it plus the clock-skew allowance. Such a clock (a gateway set to 2199) would otherwise
 * make every other reading of the partition late, for good.
 */
export function isBelievable(ts: number, receivedAt: number, maxClockSkewMs: number): boolean {
  return ts <= receivedAt + maxClockSkewMs;
}

/**
 * The event-time clock a site's windows close by: the site's own newest believable reading time, but
 * never more than the clock-skew allowance behind the partition's newest. So a gateway whose clock
 * is a little slow is judged by its own clock (its readings are not late because another site's
 * clock runs ahead), and a site that went quiet, or whose clock lags more than the allowance, still
 * has its windows closed as the partition's time moves on.
 */
export function siteWatermark(siteNewest: number, partitionNewest: number, maxClockSkewMs: number): number {
  return Math.max(siteNewest, partitionNewest - maxClockSkewMs);
}

/**
 * A reading older than `watermark − allowedLateness` is late: every window it belongs to has closed
 * (or will have, before anything else is added), so it is counted and kept out of the windows rather
 * than changing a result already emitted.
 */
export function isLate(ts: number, watermark: number, allowedLatenessMs: number): boolean {
  return ts < watermark - allowedLatenessMs;
}
