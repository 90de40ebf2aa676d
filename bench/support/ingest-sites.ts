// Simulated sites for `npm run bench ingest`: one MQTT client per site on loopback, each behaving as
// the edge's uplink does — one batch in flight, the next only after the cloud's ack, the same batch
// (same seqs, same id) again after an ack timeout; the wait doubles with each resend up to a cap,
// with up to a quarter of jitter (edge/uplink/delivery.ts), or stays fixed (`ackTimeoutMaxMs` equal
// to `ackTimeoutMs`, as the edge did before). Each site offers readings at a set rate (or as
// fast as acks allow, like an edge draining a backlog); what it could not send yet waits at the site,
// as in the edge's outbox, so offered load above capacity shows as latency, not as lost readings.
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { batchIdOf, encodeBatch } from '../../shared/contract/envelopes.js';
import { siteTopic } from '../../shared/contract/topics.js';
import { parseBatchAck } from '../../shared/reading-schema.js';
import { READING_SCHEMA_VERSION, type Reading } from '../../shared/reading.js';
import { airconObservation } from './aircon-readings.js';

export interface SiteLoadOptions {
  url: string;
  siteIds: readonly string[];
  batchReadings: number;
  /** Readings per second each site produces; Infinity: a backlog, sent as fast as acks come back. */
  readingsPerSecondPerSite: number;
  ackTimeoutMs: number;
  /** The longest the doubling wait reaches. */
  ackTimeoutMaxMs: number;
  protocolVersion: 4 | 5;
  /** Username and password of a site, or undefined for an anonymous client. */
  credentials(siteId: string): { username: string; password: string } | undefined;
  /** Sites connecting at once: a broker that checks a scrypt hash per connect takes them in turn anyway. */
  connectConcurrency: number;
}

/** What every site saw, summed. Latency is first publish → ack of a batch (resends included). */
export interface SiteLoadFigures {
  ackedBatches: number;
  ackedReadings: number;
  resends: number;
  /** Acks for a batch no longer in flight (a resend's second ack, or a late one). */
  staleAcks: number;
  latenciesMs: number[];
  /** Readings produced but not yet sent (the sites' outboxes). */
  backlog: number;
  /** Readings acknowledged over the whole run, warm-up and final drain included. */
  ackedReadingsInRun: number;
}

/** Aircons per site: readings go round them, so a site's readings spread over partitions by deviceId. */
const DEVICES_PER_SITE = 8;
const SEQ_MARK = 1_234_567_890_123;
const TS_MARK = '2099-01-01T00:00:00.000Z';
/** CONNACK "server unavailable": 3 in MQTT 3.1.1, 0x88 in MQTT 5 (mqtt.js sets it as the error's code). */
const CONNACK_SERVER_UNAVAILABLE: readonly unknown[] = [3, 0x88];

/**
 * A reading's JSON as the edge stores it, split around its seq and ts so a batch is made by
 * joining strings (the generator must cost far less than the ingest it loads).
 */
function readingTemplates(siteId: string): Array<[string, string, string]> {
  const fleet = { devices: DEVICES_PER_SITE, spacingMs: 1000, endAt: Date.now(), total: DEVICES_PER_SITE };
  const templates: Array<[string, string, string]> = [];
  for (let device = 0; device < DEVICES_PER_SITE; device += 1) {
    const reading: Reading = { v: READING_SCHEMA_VERSION, siteId, seq: SEQ_MARK, ...airconObservation(device, fleet), ts: TS_MARK };
    const json = JSON.stringify(reading);
    const [head, rest] = json.split(String(SEQ_MARK)) as [string, string];
    const [middle, tail] = rest.split(TS_MARK) as [string, string];
    templates.push([head, middle, tail]);
  }
  return templates;
}

interface InFlight {
  batchId: string;
  payload: string;
  readings: number;
  firstSentAt: number;
  waitMs: number;
  timer: NodeJS.Timeout;
}

/** As the edge: up to a quarter on top of each ack wait, so sites do not resend in step. */
const ACK_JITTER = 0.25;

class SimulatedSite {
  private client: MqttClient | undefined;
  private nextSeq = 1;
  /** Readings made by the site's poller and not yet sent. */
  private produced = 0;
  private inFlight: InFlight | undefined;
  private readonly templates: Array<[string, string, string]>;
  private stopped = false;
  /** No new batch: the one in flight may finish. */
  private finishing = false;

  constructor(
    readonly siteId: string,
    private readonly options: SiteLoadOptions,
    private readonly figures: SiteLoadFigures,
    private readonly measuring: () => boolean,
  ) {
    this.templates = readingTemplates(siteId);
  }

  async connect(): Promise<void> {
    const { options } = this;
    const credentials = options.credentials(this.siteId);
    const clientOptions: IClientOptions = {
      clientId: `echolake-edge-${this.siteId}`,
      protocolVersion: options.protocolVersion,
      // No session outlives the run: the harness leaves nothing for the broker to keep.
      clean: true,
      ...(options.protocolVersion === 5 && { properties: { sessionExpiryInterval: 0 } }),
      reconnectPeriod: 1000,
      // mqtt.js does not reconnect after a refused CONNACK unless told to (the edge reconnects itself).
      reconnectOnConnackError: true,
      connectTimeout: 120_000,
      keepalive: 60,
      ...(credentials !== undefined && credentials),
    };
    const client = connect(options.url, clientOptions);
    this.client = client;
    client.on('message', (_topic, payload) => this.onAck(payload));
    client.on('error', () => undefined); // counted by the broker; reconnects by itself
    await new Promise<void>((resolve, reject) => {
      // "Server unavailable": the cloud's secret checks are at their limit (many sites connect at
      // once); mqtt.js comes back after reconnectPeriod, as the edge does. Anything else is fatal.
      const onError = (err: Error & { code?: unknown }): void => {
        if (CONNACK_SERVER_UNAVAILABLE.includes(err.code)) return;
        client.off('error', onError);
        reject(err);
      };
      client.on('error', onError);
      client.once('connect', () => {
        client.off('error', onError);
        resolve();
      });
    });
    const granted = await client.subscribeAsync(siteTopic(this.siteId, 'acks'), { qos: 1 });
    if (granted.some((grant) => grant.qos === 128)) throw new Error(`site ${this.siteId}: the broker refused its acks subscription`);
  }

  /** The poller's share since the last tick; then send when nothing is in flight. */
  tick(elapsedMs: number): void {
    if (this.stopped) return;
    const rate = this.options.readingsPerSecondPerSite;
    this.produced = Number.isFinite(rate) ? this.produced + (rate * elapsedMs) / 1000 : Number.POSITIVE_INFINITY;
    this.sendIfIdle();
  }

  /** Readings waiting at the site (0 for a backlog site: its outbox is bottomless). */
  get idle(): boolean {
    return this.inFlight === undefined;
  }

  finish(): void {
    this.finishing = true;
  }

  get backlog(): number {
    return Number.isFinite(this.produced) ? Math.floor(this.produced) : 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.inFlight !== undefined) clearTimeout(this.inFlight.timer);
    await this.client?.endAsync(true);
  }

  private sendIfIdle(): void {
    if (this.inFlight !== undefined || this.finishing || this.client?.connected !== true) return;
    // A paced site sends full batches (its batch age limit is longer than a batch takes to fill).
    if (this.produced < this.options.batchReadings) return;
    const count = this.options.batchReadings;
    const first = this.nextSeq;
    const last = first + count - 1;
    const ts = new Date().toISOString();
    const readings: string[] = [];
    for (let seq = first; seq <= last; seq += 1) {
      const [head, middle, tail] = this.templates[seq % DEVICES_PER_SITE] as [string, string, string];
      readings.push(`${head}${seq}${middle}${ts}${tail}`);
    }
    const batchId = batchIdOf(first, last);
    const payload = encodeBatch(this.siteId, batchId, readings);
    this.nextSeq = last + 1;
    this.produced -= count;
    const waitMs = this.options.ackTimeoutMs;
    this.inFlight = { batchId, payload, readings: count, firstSentAt: Date.now(), waitMs, timer: this.armTimeout(waitMs) };
    this.publish(payload);
  }

  private publish(payload: string): void {
    this.client?.publish(siteTopic(this.siteId, 'readings'), payload, { qos: 1 }, () => undefined);
  }

  private armTimeout(waitMs: number): NodeJS.Timeout {
    return setTimeout(() => this.onAckTimeout(), Math.round(waitMs * (1 + Math.random() * ACK_JITTER)));
  }

  /** As the edge does: no ack in time, the same batch again, and a longer wait for it. */
  private onAckTimeout(): void {
    const inFlight = this.inFlight;
    if (inFlight === undefined || this.stopped) return;
    if (this.measuring()) this.figures.resends += 1;
    inFlight.waitMs = Math.min(this.options.ackTimeoutMaxMs, inFlight.waitMs * 2);
    inFlight.timer = this.armTimeout(inFlight.waitMs);
    this.publish(inFlight.payload);
  }

  private onAck(payload: Buffer): void {
    const parsed = parseBatchAck(payload);
    const inFlight = this.inFlight;
    if (!parsed.ok || inFlight === undefined || parsed.value.batchId !== inFlight.batchId) {
      if (this.measuring()) this.figures.staleAcks += 1;
      return;
    }
    clearTimeout(inFlight.timer);
    this.inFlight = undefined;
    this.figures.ackedReadingsInRun += inFlight.readings;
    if (this.measuring()) {
      this.figures.ackedBatches += 1;
      this.figures.ackedReadings += inFlight.readings;
      this.figures.latenciesMs.push(Date.now() - inFlight.firstSentAt);
    }
    this.sendIfIdle();
  }
}

/** A fleet of simulated sites on one broker, measured between `startMeasuring` and `stopMeasuring`. */
export class SiteLoad {
  readonly figures: SiteLoadFigures = { ackedBatches: 0, ackedReadings: 0, resends: 0, staleAcks: 0, latenciesMs: [], backlog: 0, ackedReadingsInRun: 0 };
  private readonly sites: SimulatedSite[];
  private measuringNow = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly options: SiteLoadOptions) {
    this.sites = options.siteIds.map((id) => new SimulatedSite(id, options, this.figures, () => this.measuringNow));
  }

  /** Connects every site (bounded concurrency); resolves with the seconds it took. */
  async connect(): Promise<number> {
    const started = Date.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < this.sites.length) {
        const site = this.sites[next] as SimulatedSite;
        next += 1;
        await site.connect();
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.connectConcurrency, this.sites.length) }, worker));
    return (Date.now() - started) / 1000;
  }

  /** Sites start producing; a tick every 50 ms feeds each its share and sends what is due. */
  start(): void {
    let last = Date.now();
    this.ticker = setInterval(() => {
      const now = Date.now();
      for (const site of this.sites) site.tick(now - last);
      last = now;
    }, 50);
  }

  startMeasuring(): void {
    this.measuringNow = true;
  }

  stopMeasuring(): void {
    this.measuringNow = false;
    this.figures.backlog = this.sites.reduce((sum, site) => sum + site.backlog, 0);
  }

  /** Sites send nothing new; resolves once every batch in flight is acknowledged, or after `timeoutMs`. */
  async finish(timeoutMs: number): Promise<number> {
    for (const site of this.sites) site.finish();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.sites.some((site) => !site.idle)) await new Promise((resolve) => setTimeout(resolve, 100));
    return this.sites.filter((site) => !site.idle).length;
  }

  async stop(): Promise<void> {
    clearInterval(this.ticker);
    await Promise.all(this.sites.map((site) => site.stop()));
  }
}
