import type { Logger } from './log.js';

/** Fields of one log event. */
type Fields = Record<string, unknown>;

interface Window {
  /** Occurrences since the line that opened the window; they were counted, not logged. */
  suppressed: number;
  /** The last suppressed occurrence's fields, as an example for the summary. */
  last: Fields;
  msg: string;
  level: 'warn' | 'error';
  timer: NodeJS.Timeout;
}

/**
 * Warnings that something outside the edge can repeat at will (malformed acks, oversized packets,
 * an ack timeout per batch during an outage): the first of a kind is logged at once, the rest of
 * its window only counted, and one summary line closes the window with the count and the last
 * example. 2,000 forged acks make two lines, not 2,000 — a flood must not fill the SD card or
 * drown the line that matters. The kinds open at once are bounded (a kind may carry what a
 * stranger chose, like a user name): past the bound, new kinds share one window.
 */
/** Where warnings of kinds beyond the bound are counted together. */
const TOO_MANY_KINDS = 'too-many-kinds';

export class RepeatedWarnings {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly log: Logger,
    private readonly windowMs: number,
    private readonly maxKinds = 1000,
  ) {}

  warn(kind: string, fields: Fields, msg: string): void {
    this.emit('warn', kind, fields, msg);
  }

  error(kind: string, fields: Fields, msg: string): void {
    this.emit('error', kind, fields, msg);
  }

  /** Writes the summary of every open window now (at stop, so no count is lost). */
  flush(): void {
    for (const kind of [...this.windows.keys()]) this.close(kind);
  }

  private emit(level: 'warn' | 'error', wanted: string, fields: Fields, msg: string): void {
    const kind = this.windows.has(wanted) || this.windows.size < this.maxKinds ? wanted : TOO_MANY_KINDS;
    const open = this.windows.get(kind);
    if (open !== undefined) {
      open.suppressed += 1;
      open.last = fields;
      return;
    }
    this.log[level]({ ...fields, kind }, msg);
    const timer = setTimeout(() => this.close(kind), this.windowMs);
    timer.unref();
    this.windows.set(kind, { suppressed: 0, last: fields, msg, level, timer });
  }

  private close(kind: string): void {
    const window = this.windows.get(kind);
    if (window === undefined) return;
    clearTimeout(window.timer);
    this.windows.delete(kind);
    if (window.suppressed === 0) return;
    this.log[window.level](
      { ...window.last, kind, repeated: window.suppressed, windowMs: this.windowMs },
      `${window.msg} (${window.suppressed} more times in ${Math.round(this.windowMs / 1000)} s, counted but not logged one by one)`,
    );
  }
}
