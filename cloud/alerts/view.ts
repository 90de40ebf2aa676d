import type { Alert } from './alert.js';

export interface AlertFilter {
  state?: Alert['state'];
  siteId?: string;
  deviceId?: string;
  rule?: string;
  limit: number;
}

/**
 * The latest record of each recent alert, as read from the alerts topic, for the API: every
 * instance follows the whole topic, so any instance answers for every partition. Bounded: past
 * `maxAlerts`, the alerts resolved longest ago go first (then, only if all are firing, the oldest).
 */
export class AlertView {
  /** Map order is recency: a record moves its alert to the end. */
  private readonly byId = new Map<string, Alert>();
  private resolved = 0;

  constructor(private readonly maxAlerts: number) {}

  apply(alert: Alert): void {
    const previous = this.byId.get(alert.id);
    // A resolved alert never fires again under its id (a new episode gets a new id); an old firing record read late stays behind.
    if (previous?.state === 'resolved') return;
    this.byId.delete(alert.id);
    this.byId.set(alert.id, alert);
    if (alert.state === 'resolved') this.resolved += 1;
    while (this.byId.size > this.maxAlerts) this.evictOne();
  }

  list(filter: AlertFilter): Alert[] {
    const out: Alert[] = [];
    const newestFirst = [...this.byId.values()].reverse();
    for (const alert of newestFirst) {
      if (filter.state !== undefined && alert.state !== filter.state) continue;
      if (filter.siteId !== undefined && alert.siteId !== filter.siteId) continue;
      if (filter.deviceId !== undefined && alert.deviceId !== filter.deviceId) continue;
      if (filter.rule !== undefined && alert.rule !== filter.rule) continue;
      out.push(alert);
      if (out.length >= filter.limit) break;
    }
    return out;
  }

  get size(): number {
    return this.byId.size;
  }

  private evictOne(): void {
    if (this.resolved > 0) {
      for (const [id, alert] of this.byId) {
        if (alert.state !== 'resolved') continue;
        this.byId.delete(id);
        this.resolved -= 1;
        return;
      }
    }
    const oldest = this.byId.keys().next().value;
    if (oldest !== undefined) this.byId.delete(oldest);
  }
}
