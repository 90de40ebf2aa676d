import type { Logger } from '../../shared/log.js';
import type { AnyReading, Recorded } from '../../shared/reading.js';
import type { ReadingStore } from './reading-store.js';

/** Readings held in memory while the store keeps failing; past this the oldest go (the watchdog restarts the gateway long before). */
const MAX_PENDING = 50_000;

/** Why readings left memory without reaching the database. */
export type UnsavedDropReason = 'disk-full' | 'shutdown';

/**
 * Gathers observations and commits them to the outbox together, at most once per interval: one
 * transaction for many readings, because each commit costs an fsync and an SD card has only so
 * many writes in it. The interval rather than the poll cycle sets the pace: devices are polled at
 * their own phases, so a cycle has no single end, and a second's worth of readings is one commit
 * however many devices the site has. A reading counts as made once its commit returned.
 */
export class GroupCommit {
  private pending: Recorded[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly dropped: Record<UnsavedDropReason, number> = { 'disk-full': 0, shutdown: 0 };

  constructor(
    private readonly store: ReadingStore,
    private readonly intervalMs: number,
    private readonly onCommitted: (readings: AnyReading[]) => void,
    private readonly log: Logger,
  ) {}

  /** Readings that never reached the database, by reason, since start (they have no seq: counted here, not in the store). */
  droppedUnsaved(): Readonly<Record<UnsavedDropReason, number>> {
    return { ...this.dropped };
  }

  add(observation: Recorded): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.dropped['disk-full'] += 1;
      // Once per thousand, not per reading: the journal sits on the same full disk.
      if (this.dropped['disk-full'] % 1_000 === 1) {
        this.log.error({ held: MAX_PENDING, dropped: this.dropped['disk-full'], reason: 'disk-full' }, 'reading store failing for long: oldest held readings dropped, counted');
      }
    }
    this.pending.push(observation);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  /**
   * The last commit, at shutdown: what the database still refuses now leaves memory for good, so it
   * is counted as dropped (reason `shutdown`) and said so, not promised a retry.
   */
  close(): void {
    this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    this.dropped.shutdown += this.pending.length;
    this.log.error({ dropped: this.pending.length, reason: 'shutdown', droppedSinceStart: this.dropped }, 'stopping with readings the database refused: dropped, counted');
    this.pending = [];
  }

  /** Commits what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let readings: AnyReading[];
    try {
      readings = this.store.append(batch);
    } catch (err) {
      // Keep them for the next attempt rather than lose them; the error is loud.
      this.pending = batch.concat(this.pending);
      this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
      this.log.error({ err, pending: this.pending.length }, 'reading store commit failed; will retry');
      return;
    }
    const first = readings[0];
    const last = readings[readings.length - 1];
    this.log.debug({ readings: readings.length, firstSeq: first?.seq, lastSeq: last?.seq }, 'readings committed to the outbox');
    this.onCommitted(readings);
  }
}
