import type { Logger } from '../../shared/log.js';
import type { DeltaTable } from './delta/table.js';
import { executeOptimize, planOptimize, type OptimizeResult, type OptimizeSettings } from './operations/optimize.js';
import { executeVacuum, planVacuum } from './operations/vacuum.js';

export interface MaintenanceSettings extends OptimizeSettings {
  vacuumRetentionHours: number;
}

export interface MaintenanceReport {
  table: string;
  optimize: OptimizeResult;
  vacuum: { deleted: number; bytes: number };
}

/** Optimize then vacuum one table: what the schedule runs and what the commands run by hand. */
export async function maintainTable(table: DeltaTable, settings: MaintenanceSettings): Promise<MaintenanceReport> {
  await table.refresh();
  const optimize = await executeOptimize(table, planOptimize(table, settings));
  const plan = await planVacuum(table, settings.vacuumRetentionHours * 3_600_000);
  const deleted = await executeVacuum(table, plan);
  return { table: table.location, optimize, vacuum: { deleted, bytes: plan.bytes } };
}

/**
 * Runs maintenance every `everyMs` on the tables (one run at a time; a failed run is logged and the
 * next one tries again). The tables are this component's own instances: their commits race the
 * writer's like any other writer's, and the commit loop sorts that out.
 */
export class MaintenanceSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly open: () => Promise<DeltaTable[]>,
    private readonly settings: MaintenanceSettings & { everyMs: number },
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.settings.everyMs === 0) return;
    this.timer = setInterval(() => {
      this.running = this.running.then(() => this.runOnce());
    }, this.settings.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async runOnce(): Promise<void> {
    try {
      for (const table of await this.open()) {
        const report = await maintainTable(table, this.settings);
        if (report.optimize.filesRemoved > 0 || report.vacuum.deleted > 0) this.log.info(report, 'lake maintenance done');
      }
    } catch (err) {
      this.log.warn({ err }, 'lake maintenance failed; the next run tries again');
    }
  }
}
