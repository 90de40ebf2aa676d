import { Counter, Gauge, type Registry } from 'prom-client';
import type { AnyReading } from '../../shared/reading.js';
import type { SiteRegistry } from './registry.js';
import { type DeviceCounts, type SiteDevice, type SiteDeviceEvent, SiteDevices } from './site-devices.js';

/** What the cloud knows of a site right now. */
export interface SiteLiveStatus {
  /** Last batch taken into Kafka, or the last status message, whichever came later (ms since 1970). */
  lastSeenAt: number | undefined;
  lastBatchAt: number | undefined;
  lastSeq: number | undefined;
  /** Readings taken into Kafka since start (the dashboard turns two answers into a rate). */
  readings: number;
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
  private readonly devicesBySite = new Map<string, SiteDevices>();
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

  /** A batch Kafka took: its readings in seq order (never empty). */
  batchInKafka(siteId: string, readings: readonly AnyReading[], at = Date.now()): void {
    const status = this.entry(siteId);
    const last = readings[readings.length - 1];
    if (status === undefined || last === undefined) return;
    status.lastBatchAt = at;
    status.lastSeenAt = at;
    status.lastSeq = Math.max(status.lastSeq ?? 0, last.seq);
    status.readings += readings.length;
    this.lastBatch.set({ site: siteId }, at / 1000);
    this.lastSeq.set({ site: siteId }, status.lastSeq);
    this.readings.inc({ site: siteId }, readings.length);
    this.devices(siteId).take(readings);
  }

  /** Devices online of total at the site, from the batches since start. */
  deviceCounts(siteId: string): DeviceCounts {
    return this.devicesBySite.get(siteId)?.counts() ?? { online: 0, total: 0, capped: false };
  }

  /** The site's devices with their latest values, from the batches since start. */
  siteDevices(siteId: string): SiteDevice[] {
    return this.devicesBySite.get(siteId)?.list() ?? [];
  }

  /** The site's latest device events, newest first. */
  siteEvents(siteId: string): SiteDeviceEvent[] {
    return this.devicesBySite.get(siteId)?.recentEvents() ?? [];
  }

  reported(siteId: string, report: NonNullable<SiteLiveStatus['reported']>): void {
    const status = this.entry(siteId);
    if (status === undefined) return;
    status.reported = report;
    status.lastSeenAt = Math.max(status.lastSeenAt ?? 0, report.at);
  }

  get(siteId: string): SiteLiveStatus & { online: boolean } {
    const status = this.bySite.get(siteId) ?? emptyStatus();
    const recent = status.lastSeenAt !== undefined && Date.now() - status.lastSeenAt < ONLINE_WINDOW_MS;
    return { ...status, online: recent && status.reported?.state !== 'offline' };
  }

  private entry(siteId: string): SiteLiveStatus | undefined {
    if (this.sites.get(siteId) === undefined) return undefined;
    let status = this.bySite.get(siteId);
    if (status === undefined) {
      status = emptyStatus();
      this.bySite.set(siteId, status);
    }
    return status;
  }

  /** Called only for a site entry() let in: bounded by the registry like the rest of the board. */
  private devices(siteId: string): SiteDevices {
    let devices = this.devicesBySite.get(siteId);
    if (devices === undefined) {
      devices = new SiteDevices();
      this.devicesBySite.set(siteId, devices);
    }
    return devices;
  }

  private forget(siteId: string): void {
    this.bySite.delete(siteId);
    this.devicesBySite.delete(siteId);
    this.lastBatch.remove({ site: siteId });
    this.lastSeq.remove({ site: siteId });
    this.readings.remove({ site: siteId });
  }
}

function emptyStatus(): SiteLiveStatus {
  return { lastSeenAt: undefined, lastBatchAt: undefined, lastSeq: undefined, readings: 0, reported: undefined };
}
