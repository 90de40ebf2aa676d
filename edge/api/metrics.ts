/**
 * /metrics in Prometheus text format: Node's process metrics plus the gateway's own, prefixed
 * `echolake_edge_`. The gateway's values live in the parts that own them (outbox, uplink,
 * registry); they are read once per scrape, so a scrape shows one consistent moment.
 */
import type { FastifyPluginCallback } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AVAILABILITIES, countByAvailability } from './availability.js';
import type { CommandStats, CommandsSource, DeviceSource, EchonetSource, EchonetStats, GatewayStatus, StatusSource } from './sources.js';

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

/** Counters another part keeps, one series per label value (a device, a reason). */
class MirroredCounters<L extends string> {
  private readonly counter: Counter<L>;

  constructor(registry: Registry, name: string, help: string, label: L) {
    this.counter = new Counter({ name: PREFIX + name, help, labelNames: [label], registers: [registry] });
  }

  mirror(values: ReadonlyArray<readonly [Partial<Record<L, string>>, number]>): void {
    this.counter.reset();
    for (const [labels, value] of values) this.counter.inc(labels, value);
  }
}

const AVAILABILITY_VALUE = { online: 2, unreachable: 1, offline: 0 } as const;
type DeviceCounter = 'requests' | 'answers' | 'timeouts' | 'retries' | 'getSna';

/** The ECHONET Lite metrics: per edge (searches, frames) and per polled device (requests, answers, …). */
class EchonetMetrics {
  private readonly searches: MirroredCounter;
  private readonly framesIn: MirroredCounter;
  private readonly framesOut: MirroredCounter;
  private readonly framesDropped: MirroredCounters<'reason'>;
  private readonly perDevice: Record<DeviceCounter, MirroredCounters<'device_id'>>;
  private readonly batchSize: Gauge<'device_id'>;
  private readonly availability: Gauge<'device_id'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.searches = new MirroredCounter(registry, 'echonet_searches_total', 'ECHONET Lite searches (multicast and static probes) since start');
    this.framesIn = new MirroredCounter(registry, 'echonet_frames_received_total', 'ECHONET Lite frames received since start');
    this.framesOut = new MirroredCounter(registry, 'echonet_frames_sent_total', 'ECHONET Lite frames sent since start');
    this.framesDropped = new MirroredCounters(
      registry,
      'echonet_frames_dropped_total',
      'ECHONET Lite frames dropped since start, by reason: malformed, unexpected_address (spoofed or confused), unmatched, late, foreign_answer (a node at a moved device\'s address), unattributed_inf',
      'reason',
    );
    const device = (name: string, help: string): MirroredCounters<'device_id'> => new MirroredCounters(registry, `echonet_device_${name}_total`, help, 'device_id');
    this.perDevice = {
      requests: device('requests', 'Gets sent to the device since start (first attempts)'),
      answers: device('answers', 'Answers from the device since start (Get_Res or Get_SNA)'),
      timeouts: device('timeouts', 'Gets the device left unanswered after every retry'),
      retries: device('retries', 'Attempts sent again after a timeout'),
      getSna: device('get_sna', 'Get_SNA answers (the device refused some EPCs)'),
    };
    this.batchSize = new Gauge({ name: `${PREFIX}echonet_device_batch_size`, help: 'EPCs per Get the device is asked now, learned from its answers', labelNames: ['device_id'], registers });
    this.availability = new Gauge({ name: `${PREFIX}echonet_device_availability`, help: '2 online, 1 unreachable (announces, does not answer), 0 offline', labelNames: ['device_id'], registers });
  }

  refresh(stats: EchonetStats): void {
    this.searches.mirror(stats.searches);
    this.framesIn.mirror(stats.framesIn);
    this.framesOut.mirror(stats.framesOut);
    this.framesDropped.mirror(Object.entries(stats.framesDropped).map(([reason, n]) => [{ reason }, n] as const));
    for (const name of Object.keys(this.perDevice) as DeviceCounter[]) {
      this.perDevice[name].mirror(stats.devices.map((d) => [{ device_id: d.deviceId }, d[name]] as const));
    }
    this.batchSize.reset();
    this.availability.reset();
    for (const d of stats.devices) {
      this.batchSize.set({ device_id: d.deviceId }, d.batchSize);
      this.availability.set({ device_id: d.deviceId }, AVAILABILITY_VALUE[d.availability]);
    }
  }
}

/** What became of the cloud's commands here, and the results not yet sent. */
class CommandMetrics {
  private readonly outcomes: MirroredCounters<'outcome'>;
  private readonly restores: MirroredCounter;
  private readonly pending: Gauge;

  constructor(registry: Registry) {
    this.outcomes = new MirroredCounters(
      registry,
      'commands_total',
      'Command messages from the cloud since start, by outcome: received (new), duplicate (a copy, not carried out again), invalid, refused (site policy), expired, executed',
      'outcome',
    );
    this.restores = new MirroredCounter(registry, 'command_restores_total', 'Restores run at the end of a command window since start');
    this.pending = new Gauge({ name: `${PREFIX}command_results_pending`, help: 'Command results kept until the broker takes them', registers: [registry] });
  }

  refresh(stats: CommandStats): void {
    const { received, duplicates, invalid, refused, expired, executed } = stats;
    this.outcomes.mirror(Object.entries({ received, duplicate: duplicates, invalid, refused, expired, executed }).map(([outcome, n]) => [{ outcome }, n] as const));
    this.restores.mirror(stats.restores);
    this.pending.set(stats.resultsPending);
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
  private readonly acksRejected: MirroredCounters<'reason'>;
  private readonly linkEvents: MirroredCounters<'event'>;
  private readonly echonet: EchonetMetrics;
  private readonly commands: CommandMetrics;

  constructor(
    private readonly sources: { readonly status: StatusSource; readonly devices: DeviceSource; readonly echonet: EchonetSource; readonly commands: CommandsSource },
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
      dropped: new MirroredCounter(this.registry, 'readings_dropped_total', 'Readings given up unsent: at the byte cap or with a corrupt database file it replaced (over the life of the database), or never saved (a full disk, a shutdown then; since start)'),
      batchesAcked: new MirroredCounter(this.registry, 'uplink_batches_acknowledged_total', 'Batches the cloud acknowledged since start'),
      readingsAcked: new MirroredCounter(this.registry, 'uplink_readings_acknowledged_total', 'Readings the cloud acknowledged since start'),
      resends: new MirroredCounter(this.registry, 'uplink_resends_total', 'Batches sent again for want of an acknowledgement since start'),
    };
    this.acksRejected = new MirroredCounters(this.registry, 'uplink_acks_rejected_total', 'Acks not taken since start, by reason (malformed, otherSite, notInFlight, wrongTopic)', 'reason');
    this.linkEvents = new MirroredCounters(this.registry, 'uplink_link_events_total', "The transport's own counts since start: oversizedPackets (MQTT), refusals and dead letters (HTTPS)", 'event');
    this.echonet = new EchonetMetrics(this.registry);
    this.commands = new CommandMetrics(this.registry);
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
    this.acksRejected.mirror(Object.entries(status.uplink.acksRejected).map(([reason, n]) => [{ reason }, n] as const));
    this.linkEvents.mirror(Object.entries(status.uplink.link).map(([event, n]) => [{ event }, n] as const));
    this.echonet.refresh(this.sources.echonet.stats());
    this.commands.refresh(this.sources.commands.stats());
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
