import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON event per line on stdout (journald and container runtimes collect stdout).
 * `component` names the room an event comes from; ids such as siteId, deviceId, seq and
 * batchId go into each event's fields so one reading can be followed end to end.
 *
 * Written synchronously: pino's buffered default flushes at exit in a loop that never gives up,
 * so with its reader gone (journald restarted, a parent killed) a stopping process hung forever
 * on EPIPE. Written line by line, the first EPIPE just silences the logger.
 */
export function createLogger(component: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name: 'echolake', level, base: { component } }, pino.destination({ dest: 1, sync: true }));
}

/** A logger that drops everything, for unit tests of one module's logic. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
