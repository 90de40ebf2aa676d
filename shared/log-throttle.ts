import type { Logger } from './log.js';

/**
 * Logs a repeated event at most once per interval per key, and says how many were held back, so
 * an attacker's noise (thousands of refused connects or malformed messages) costs a few lines, not
 * a line each. The counting itself belongs in a metric; this only spares the log.
 */
export class LogThrottle {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 10_000,
    private readonly maxKeys = 1000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const entry = this.last.get(key);
    if (entry !== undefined && now - entry.at < this.intervalMs) {
      entry.held += 1;
      return;
    }
    if (entry === undefined && this.last.size >= this.maxKeys) this.last.clear();
    const held = entry?.held ?? 0;
    this.last.set(key, { at: now, held: 0 });
    this.log.warn(held > 0 ? { ...fields, heldBack: held } : fields, message);
  }
}
