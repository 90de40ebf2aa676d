import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON event per line on stdout (journald and container runtimes collect stdout).
 * `component` names the room an event comes from; ids such as siteId, deviceId, seq and
 * batchId go into each event's fields so one reading can be followed end to end.
 */
export function createLogger(component: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'echolake', level, base: { component } });
}

/** A logger that drops everything, for unit tests of one module's logic. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
