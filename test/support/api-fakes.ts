// In-memory stand-ins for the ports the local API reads from, for the api-*.test.ts unit tests.
import { pino } from 'pino';
import { createApiServer, type ApiOptions, type ApiServer } from '../../edge/api/server.js';
import type {
  CommandsSource,
  DeviceControl,
  ApiSources,
  DeviceSource,
  DeviceView,
  DiscoveryTrigger,
  EchonetSource,
  EchonetStats,
  GatewayStatus,
  ReadingHistory,
  ReadingQuery,
  Readiness,
  StatusSource,
} from '../../edge/api/sources.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import type { AnyReading, PropertyValue, Reading } from '../../shared/reading.js';
import { aircon } from '../support/observations.js';

export const TOKEN = 'installer-token-0123456789';

export const AIRCON_ID = aircon(0).deviceId;
export const QUIET_ID = 'fe00000b0000000000000000000000000009-013001';
export const LIGHT_ID = '192.168.1.40-029001';

export const devicesOnSite: DeviceView[] = [
  {
    id: AIRCON_ID,
    eoj: '013001',
    deviceType: 'homeAirConditioner',
    address: '127.0.0.2',
    manufacturer: '00000b',
    availability: 'online',
    lastSeenAt: '2026-11-23T05:00:10.000Z',
    latest: {
      properties: { operationStatus: true, targetTemperature: 26, roomTemperature: 28, humidity: null },
      raw: { '80': '30', b3: '1a', bb: '1c', ba: 'fd', '82': '00005200' },
      updatedAt: '2026-11-23T05:00:10.000Z',
    },
  },
  {
    id: QUIET_ID,
    eoj: '013001',
    deviceType: 'homeAirConditioner',
    address: '127.0.0.9',
    manufacturer: null,
    availability: 'unreachable',
    lastSeenAt: '2026-11-23T04:00:00.000Z',
    latest: null,
  },
  {
    id: LIGHT_ID,
    eoj: '029001',
    deviceType: '0x0290',
    address: '192.168.1.40',
    manufacturer: '000005',
    availability: 'offline',
    lastSeenAt: '2026-11-22T23:00:00.000Z',
    latest: null,
  },
];

/** Ten readings of the aircon, one a minute from 05:00 UTC, seqs 1–10. */
export const airconHistory: Reading[] = Array.from({ length: 10 }, (_, i) => ({
  v: 1,
  siteId: 'site-a',
  seq: i + 1,
  ...aircon(0, { ts: new Date(Date.UTC(2026, 10, 23, 5, i)).toISOString() }),
}));

export const healthyStatus: GatewayStatus = {
  siteId: 'site-a',
  uptimeSeconds: 3600.5,
  uplink: {
    state: 'connected',
    lastAckAt: '2026-11-23T05:00:09.000Z',
    inFlight: { batchId: '11-20', attempts: 1 },
    batchesAcknowledged: 7,
    readingsAcknowledged: 70,
    resends: 2,
    failure: null,
    acksRejected: { malformed: 0, otherSite: 4, notInFlight: 1, wrongTopic: 0 },
    link: { oversizedPackets: 1 },
  },
  backlog: { depth: 10, oldestUnsentAgeSeconds: 4.2 },
  readingsRecorded: 80,
  droppedReadings: 3,
  droppedByReason: { cap: 2, shutdown: 1 },
  databaseBytes: 1_234_567,
  databaseCapBytes: 64 * 1024 * 1024,
  diskFreeBytes: 2_000_000_000,
  clock: { now: '2026-11-23T05:00:10.000Z', plausible: true, timeZone: 'Asia/Tokyo' },
  echonet: { interface: '192.168.1.2', up: true },
  waitingFor: [],
};

/** Two units: one well-behaved, one that takes three EPCs per Get and times out now and then. */
export const echonetOnSite: EchonetStats = {
  searches: 4,
  framesIn: 120,
  framesOut: 118,
  framesDropped: { malformed: 2, unexpected_address: 1, unmatched: 0, late: 0, foreign_answer: 1, unattributed_inf: 0 },
  devices: [
    { deviceId: 'fe000008000102030405060708090a0b0c-013001', availability: 'online', requests: 50, answers: 50, timeouts: 0, retries: 0, getSna: 0, batchSize: 10 },
    { deviceId: '192.168.1.21-013001', availability: 'unreachable', requests: 60, answers: 52, timeouts: 8, retries: 16, getSna: 3, batchSize: 3 },
  ],
};

/** The sources main would provide, over fixed data, recording what the API asked of them. */
export class FakeSources implements ApiSources {
  readiness: Readiness = { ready: true };
  /** What the history was asked, oldest first. */
  readonly historyQueries: { deviceId: string; query: ReadingQuery }[] = [];
  /** Readings a test adds to the aircon's fixed history (device events, say). */
  readonly extraHistory: AnyReading[] = [];
  searches = 0;

  constructor(private readonly search: () => Promise<number> = () => Promise.resolve(2)) {}

  readonly devices: DeviceSource = {
    list: () => devicesOnSite,
    get: (id) => devicesOnSite.find((device) => device.id === id),
  };

  readonly history: ReadingHistory = {
    readings: (deviceId, query) => {
      this.historyQueries.push({ deviceId, query });
      const mine = [...airconHistory, ...this.extraHistory].filter((reading) => reading.deviceId === deviceId);
      const { since } = query;
      if (since === undefined) return mine.slice(-query.limit);
      return mine.filter((reading) => Date.parse(reading.ts) >= since.getTime()).slice(0, query.limit);
    },
  };

  /** Sets the control was asked for, in order; `setOutcome` is what the next one answers. */
  readonly sets: Array<{ deviceId: string; values: Record<string, PropertyValue> }> = [];
  setOutcome: Awaited<ReturnType<DeviceControl['set']>> = { ok: true };
  readonly control: DeviceControl = {
    set: (deviceId, values) => {
      this.sets.push({ deviceId, values: { ...values } });
      return Promise.resolve(this.setOutcome);
    },
    // The device reports what was set last.
    read: (deviceId, names) => {
      const last = Object.assign({}, ...this.sets.filter((s) => s.deviceId === deviceId).map((s) => s.values)) as Record<string, PropertyValue>;
      return Promise.resolve({ ok: true, values: Object.fromEntries(names.filter((n) => Object.hasOwn(last, n)).map((n) => [n, last[n] ?? null])) });
    },
  };

  readonly commands: CommandsSource = {
    stats: () => ({ received: 3, invalid: 1, duplicates: 2, refused: 1, expired: 0, executed: 2, restores: 1, resultsPending: 4 }),
  };

  readonly status: StatusSource = { status: () => healthyStatus, ready: () => this.readiness };

  readonly echonet: EchonetSource = { stats: () => echonetOnSite };

  readonly discovery: DiscoveryTrigger = {
    searchNow: () => {
      this.searches += 1;
      return this.search();
    },
  };
}

export function apiServer(options: Partial<ApiOptions> = {}, sources: ApiSources = new FakeSources(), logger: Logger = silentLogger()): ApiServer {
  return createApiServer({ host: '127.0.0.1', port: 0, token: TOKEN, version: '0.1.0-test', maxConcurrentRequests: 16, ...options }, sources, logger);
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger that keeps its JSON lines, for tests that check what was logged. */
export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

export interface ErrorShape {
  error: { code: string; message: string };
}
