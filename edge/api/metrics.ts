/**
 * /metrics in Prometheus text format: Node's process metrics plus the gateway's own, prefixed
 * `echolake_edge_`. The gateway's values live in the parts that own them (outbox, uplink,
 * registry); they are read once per scrape, so a scrape shows one consistent moment.
 */
import type { FastifyPluginCallback } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AVAILABILITIES, countByAvailability } from './availability.js';
import type { DeviceSource, GatewayStatus, StatusSource } from './sources.js';

const PREFIX = 'echolake_edge_';

/** A counter whose value another part keeps: each scrape sets it to that value. */
class MirroredCounter {
  private readonly counter: Counter;

  constructor(registry: Registry, name: string, help: string) {
    this.counter = new Counter({ name: PREFIX + name, help, registers: [registry] });
  }

  mirror(value: number): void {
    this.counter.reset();
    this.counter.inc(value);
  }
}

export class EdgeMetrics {
  readonly registry = new Registry();
  private readonly info: Gauge<'version' | 'site_id'>;
  private readonly uplinkConnected: Gauge;
  private readonly lastAck: Gauge;
  private readonly backlogDepth: Gauge;
  private readonly backlogAge: Gauge;
  private readonly databaseBytes: Gauge;
  private readonly devices: Gauge<'availability'>;
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly counters: Record<'recorded' | 'dropped' | 'batchesAcked' | 'readingsAcked' | 'resends', MirroredCounter>;

  constructor(
    private readonly sources: { readonly status: StatusSource; readonly devices: DeviceSource },
    private readonly version: string,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.info = new Gauge({ name: `${PREFIX}info`, help: 'Always 1; the labels say which gateway and version', labelNames: ['version', 'site_id'], registers });
    this.uplinkConnected = new Gauge({ name: `${PREFIX}uplink_connected`, help: '1 while the MQTT uplink is connected', registers });
    this.lastAck = new Gauge({ name: `${PREFIX}uplink_last_ack_timestamp_seconds`, help: 'When the cloud last acknowledged a batch; 0 if not since start', registers });
    this.backlogDepth = new Gauge({ name: `${PREFIX}backlog_readings`, help: 'Readings stored but not yet acknowledged by the cloud', registers });
    this.backlogAge = new Gauge({ name: `${PREFIX}backlog_oldest_age_seconds`, help: 'Age of the oldest unacknowledged reading; 0 when none', registers });
    this.databaseBytes = new Gauge({ name: `${PREFIX}database_bytes`, help: 'Bytes of the SQLite database in use (pages, not the file size)', registers });
    this.devices = new Gauge({ name: `${PREFIX}devices`, help: 'Devices by availability', labelNames: ['availability'], registers });
    this.requests = new Counter({ name: `${PREFIX}api_requests_total`, help: 'Local API requests answered', labelNames: ['method', 'route', 'status'], registers });
    this.counters = {
      recorded: new MirroredCounter(this.registry, 'readings_recorded_total', 'Readings this gateway recorded since it started'),
      dropped: new MirroredCounter(this.registry, 'readings_dropped_total', 'Readings given up unsent, at the byte cap or with a corrupt database file it replaced, over the life of the database'),
      batchesAcked: new MirroredCounter(this.registry, 'uplink_batches_acknowledged_total', 'Batches the cloud acknowledged since start'),
      readingsAcked: new MirroredCounter(this.registry, 'uplink_readings_acknowledged_total', 'Readings the cloud acknowledged since start'),
      resends: new MirroredCounter(this.registry, 'uplink_resends_total', 'Batches sent again for want of an acknowledgement since start'),
    };
  }

  /** `route` is the route's pattern, not the URL, so ids in paths cannot multiply the series. */
  countRequest(method: string, route: string | undefined, status: number): void {
    this.requests.inc({ method, route: route ?? 'unmatched', status: String(status) });
  }

  async render(): Promise<string> {
    this.refresh(this.sources.status.status());
    return this.registry.metrics();
  }

  private refresh(status: GatewayStatus): void {
    this.info.set({ version: this.version, site_id: status.siteId }, 1);
    this.uplinkConnected.set(status.uplink.state === 'connected' ? 1 : 0);
    this.lastAck.set(status.uplink.lastAckAt === null ? 0 : Date.parse(status.uplink.lastAckAt) / 1000);
    this.backlogDepth.set(status.backlog.depth);
    this.backlogAge.set(status.backlog.oldestUnsentAgeSeconds ?? 0);
    this.databaseBytes.set(status.databaseBytes);
    const byAvailability = countByAvailability(this.sources.devices.list());
    for (const availability of AVAILABILITIES) this.devices.set({ availability }, byAvailability[availability]);
    this.counters.recorded.mirror(status.readingsRecorded);
    this.counters.dropped.mirror(status.droppedReadings);
    this.counters.batchesAcked.mirror(status.uplink.batchesAcknowledged);
    this.counters.readingsAcked.mirror(status.uplink.readingsAcknowledged);
    this.counters.resends.mirror(status.uplink.resends);
  }
}

export const metricsRoutes: FastifyPluginCallback<{ metrics: EdgeMetrics }> = (app, { metrics }, done) => {
  app.get('/metrics', {
    schema: {
      tags: ['gateway'],
      summary: 'Prometheus metrics (text exposition format 0.0.4)',
      produces: ['text/plain'],
      response: { 200: { type: 'string' } },
    },
  }, async (_request, reply) => {
    const text = await metrics.render();
    return reply.type(metrics.registry.contentType).send(text);
  });

  done();
};
