import { performance } from 'node:perf_hooks';
import type { Logger } from '../../shared/log.js';
import type { DeltaTable } from './delta/table.js';
import { checkpoint, cleanUpExpiredLogs } from './operations/checkpoint.js';

/** Expired log files are looked for at most this often per table (it lists the whole log). */
const LOG_CLEANUP_EVERY_MS = 60 * 60 * 1000;

/**
 * When a writer's tables get a checkpoint: once `interval` versions have passed since the last one
 * (other writers' commits may step over a multiple of the interval), and after it now and then a
 * cleanup of expired log files. Every table the lake writes (readings, dead letters, alerts) goes
 * through one of these after its commits.
 */
export class CheckpointSchedule {
  /** Per table, the version of the last checkpoint this writer wrote. */
  private readonly checkpointed = new Map<DeltaTable, number>();
  /** Per table, when its log was last cleaned up (monotonic). */
  private readonly cleanedUp = new Map<DeltaTable, number>();

  constructor(
    private readonly interval: number,
    private readonly log: Logger,
  ) {}

  async afterCommit(table: DeltaTable): Promise<void> {
    const { version } = table.snapshot;
    const last = this.checkpointed.get(table) ?? table.snapshot.checkpointVersion;
    if (version - Math.max(last, 0) < this.interval) return;
    this.checkpointed.set(table, version);
    try {
      const written = await checkpoint(table);
      this.log.info({ table: table.location, ...written }, 'checkpoint written');
    } catch (err) {
      // A missing checkpoint only slows the next open down: the commit itself stands.
      this.log.warn({ err, table: table.location, version }, 'checkpoint failed; the next interval tries again');
      return;
    }
    const cleaned = this.cleanedUp.get(table);
    if (cleaned !== undefined && performance.now() - cleaned < LOG_CLEANUP_EVERY_MS) return;
    this.cleanedUp.set(table, performance.now());
    const removed = await cleanUpExpiredLogs(table).catch((err: unknown) => {
      this.log.warn({ err, table: table.location }, 'log cleanup failed');
      return 0;
    });
    if (removed > 0) this.log.info({ table: table.location, removed }, 'expired log files removed');
  }
}
