import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The alerts role's figures in the cloud's `/metrics`. */
export class AlertMetrics {
  readonly readings: Counter;
  readonly duplicates: Counter;
  readonly late: Counter;
  readonly future: Counter;
  readonly unknownSites: Counter;
  readonly malformed: Counter;
  readonly windowsClosed: Counter;
  readonly alerts: Counter<'state' | 'rule' | 'severity'>;
  readonly partitions: Gauge;
  readonly restoreSeconds: Histogram;
  readonly notifications: Counter<'outcome'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.readings = new Counter({ name: 'echolake_alerts_readings_total', help: 'readings the alert engine took', registers });
    this.duplicates = new Counter({ name: 'echolake_alerts_duplicate_readings_total', help: 'readings dropped as duplicates of a (site, epoch, seq) already taken', registers });
    this.late = new Counter({
      name: 'echolake_alerts_late_readings_total',
      help: 'readings kept out of the windows because these had closed (older than their site’s watermark − allowed lateness); instant rules still judge them',
      registers,
    });
    this.future = new Counter({
      name: 'echolake_alerts_future_readings_total',
      help: 'readings stamped later than their receipt + alerts.maxClockSkewMs (a gateway clock ahead): they move no watermark and enter no window; instant and absence rules still judge them, at their receipt time',
      registers,
    });
    this.unknownSites = new Counter({ name: 'echolake_alerts_unknown_site_total', help: 'alert records raised for a site the site registry does not know (named by its id, without a location)', registers });
    this.malformed = new Counter({ name: 'echolake_alerts_malformed_readings_total', help: 'records of the readings topic that are no reading the engine can use', registers });
    this.windowsClosed = new Counter({ name: 'echolake_alerts_windows_closed_total', help: 'windows closed and judged', registers });
    this.alerts = new Counter({ name: 'echolake_alerts_total', help: 'alert records written to the alerts topic', labelNames: ['state', 'rule', 'severity'], registers });
    this.partitions = new Gauge({ name: 'echolake_alerts_partitions', help: 'readings partitions this instance evaluates', registers });
    this.restoreSeconds = new Histogram({ name: 'echolake_alerts_restore_seconds', help: 'time to restore partitions from the changelog', buckets: [0.1, 0.5, 1, 5, 15, 60], registers });
    this.notifications = new Counter({ name: 'echolake_alerts_notifications_total', help: 'webhook notifications by outcome', labelNames: ['outcome'], registers });
  }
}
