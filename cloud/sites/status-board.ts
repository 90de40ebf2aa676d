import { Counter, Gauge, type Registry } from 'prom-client';
import type { SiteRegistry } from './registry.js';

/** What the cloud knows of a site right now. */
export interface SiteLiveStatus {
  /** Last batch taken into Kafka, or the last status message, whichever came later (ms since 1970). */
  lastSeenAt: number | undefined;
  lastBatchAt: number | undefined;
  lastSeq: number | undefined;
  /** What the edge said in its last status message. */
  reported: { state: 'online' | 'offline'; backlog?: number; oldestUnsentAt?: string; at: number } | undefined;
}

/** A site counts as online while it sent something within this long (the edge sends a batch or status at least every minute or so when up). */
export const ONLINE_WINDOW_MS = 5 * 60_000;

/**
 * Live per-site state, fed by the ingest (batches, status messages), read by the API and
 * /metrics. Bounded by the registry: an unknown site never gets an entry.
 */
export class SiteStatusBoard {
  private readonly bySite = new Map<string, SiteLiveStatus>();
  private readonly lastBatch: Gauge;
  private readonly lastSeq: Gauge;
  private readonly readings: Counter;

  constructor(
    private readonly sites: SiteRegistry,
    metrics: Registry,
  ) {
    this.lastBatch = new Gauge({ name: 'echolake_site_last_batch_timestamp_seconds', help: 'when the site\'s last batch reached Kafka', labelNames: ['site'], registers: [metrics] });
    this.lastSeq = new Gauge({ name: 'echolake_site_last_seq', help: 'the highest seq of the site\'s last batch in Kafka', labelNames: ['site'], registers: [metrics] });
    this.readings = new Counter({ name: 'echolake_ingest_readings_total', help: 'readings taken into Kafka', labelNames: ['site'], registers: [metrics] });
    // A site that left the registry leaves the board and the metrics too.
    sites.onChange(() => {
      for (const id of this.bySite.keys()) {
        if (this.sites.get(id) === undefined) this.forget(id);
      }
    });
  }

  batchInKafka(siteId: string, lastSeq: number, readings: number, at = Date.now()): void {
    const status = this.entry(siteId);
    if (status === undefined) return;
    status.lastBatchAt = at;
    status.lastSeenAt = at;
    status.lastSeq = Math.max(status.lastSeq ?? 0, lastSeq);
    this.lastBatch.set({ site: siteId }, at / 1000);
    this.lastSeq.set({ site: siteId }, status.lastSeq);
    this.readings.inc({ site: siteId }, readings);
  }

  reported(siteId: string, report: NonNullable<SiteLiveStatus['reported']>): void {
    const status = this.entry(siteId);
    if (status === undefined) return;
    status.reported = report;
    status.lastSeenAt = Math.max(status.lastSeenAt ?? 0, report.at);
  }

  get(siteId: string): SiteLiveStatus & { online: boolean } {
    const status = this.bySite.get(siteId) ?? { lastSeenAt: undefined, lastBatchAt: undefined, lastSeq: undefined, reported: undefined };
    const recent = status.lastSeenAt !== undefined && Date.now() - status.lastSeenAt < ONLINE_WINDOW_MS;
    return { ...status, online: recent && status.reported?.state !== 'offline' };
  }

  private entry(siteId: string): SiteLiveStatus | undefined {
    if (this.sites.get(siteId) === undefined) return undefined;
    let status = this.bySite.get(siteId);
    if (status === undefined) {
      status = { lastSeenAt: undefined, lastBatchAt: undefined, lastSeq: undefined, reported: undefined };
      this.bySite.set(siteId, status);
    }
    return status;
  }

  private forget(siteId: string): void {
    this.bySite.delete(siteId);
    this.lastBatch.remove({ site: siteId });
    this.lastSeq.remove({ site: siteId });
    this.readings.remove({ site: siteId });
  }
}
