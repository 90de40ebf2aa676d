import type { Component } from '../../shared/lifecycle.js';
import type { Logger } from '../../shared/log.js';
import type { MaintenanceStep } from './reading-store.js';

export interface Maintainable {
  maintain(): MaintenanceStep;
}

/** Pause between two steps while there is more to do: the event loop serves polls and acks in between. */
const STEP_GAP_MS = 20;

/**
 * The store's housekeeping as a component: a step every `intervalMs`, and while a step reports
 * more work (a day of history aging out after an outage drained), the next one soon after.
 * Never two at once. A failing step (a full disk, say) is logged; the watchdog's health check,
 * which follows commits, decides about restarts.
 */
export function storeMaintenance(store: Maintainable, intervalMs: number, log: Logger): Component {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (delayMs: number): void => {
    if (!stopped) timer = setTimeout(step, delayMs);
  };
  const step = (): void => {
    let more = false;
    try {
      more = store.maintain().more;
    } catch (err) {
      log.error({ err }, 'store maintenance failed');
    }
    schedule(more ? STEP_GAP_MS : intervalMs);
  };
  return {
    name: 'buffer-maintenance',
    start: () => schedule(intervalMs),
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
