import { statfsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { ApiSources, DeviceView, EchonetStats, GatewayStatus, Readiness } from './api/sources.js';
import type { ReadingStore } from './buffer/reading-store.js';
import type { EchonetController } from './echonet/controller.js';
import { guidelineDeviceType } from './echonet/device-types.js';
import type { DeviceRecord } from './echonet/registry.js';
import type { Uplink } from './uplink/uplink.js';
import type { CommandExecutor } from './commands/executor.js';
import type { ResultOutbox } from './commands/result-outbox.js';

/** The parts the local API looks at; it reads them through the views below and nothing else. */
export interface ApiBackends {
  siteId: string;
  startedAt: number;
  controller: EchonetController;
  store: ReadingStore;
  uplink: Uplink;
  executor: CommandExecutor;
  results: ResultOutbox;
  /** Readings this process has recorded so far. */
  recorded: () => number;
  /** Readings that left memory without reaching the database, by reason, since start. */
  droppedUnsaved: () => Readonly<Record<string, number>>;
  /** buffer.maxBytes. */
  databaseCapBytes: number;
  stateDir: string;
  /** echonet.interface: the gateway's IPv4 address on the aircons' LAN. */
  interfaceAddress: string;
  /** What the gateway waits for before it can do its whole job (an address not yet on this host), in words. */
  waitingFor: () => readonly string[];
}

/**
 * A clock before this is wrong for sure: the software did not exist yet. A Pi has no real-time
 * clock, so without NTP it starts at 1970 or at fake-hwclock's last save.
 */
const CLOCK_FLOOR_MS = Date.parse('2026-01-01T00:00:00Z');

/**
 * The site's time zone as this system names it (timedatectl, /etc/localtime or TZ). Node resolves
 * an unset or unknown zone to undefined or `Etc/Unknown` and then works in UTC, so that is what
 * the gateway reports then too.
 */
export function systemTimeZone(): string {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone as string | undefined;
  return zone === undefined || zone === 'Etc/Unknown' ? 'UTC' : zone;
}

export function apiSources(backends: ApiBackends): ApiSources {
  const { controller, store } = backends;
  // Read once: Node itself reads the system's zone once per process.
  const timeZone = systemTimeZone();
  return {
    devices: {
      list: () => controller.devices().map(deviceView),
      get: (deviceId) => {
        const device = controller.registry.get(deviceId);
        return device && deviceView(device);
      },
    },
    commands: { stats: () => ({ ...backends.executor.counters, resultsPending: backends.results.pending() }) },
    control: { set: (deviceId, values) => controller.setProperties(deviceId, values), read: (deviceId, names) => controller.readProperties(deviceId, names) },
    history: { readings: (deviceId, query) => store.history(deviceId, query) },
    status: { status: () => gatewayStatus(backends, timeZone), ready: () => readiness(backends) },
    discovery: { searchNow: () => controller.searchNow() },
    echonet: { stats: () => echonetStats(controller) },
  };
}

function echonetStats(controller: EchonetController): EchonetStats {
  const counters = controller.counters();
  const { transport } = counters;
  return {
    searches: counters.searches,
    framesIn: transport.framesReceived,
    framesOut: transport.framesSent,
    framesDropped: {
      malformed: transport.malformedFrames,
      unexpected_address: transport.responsesFromUnexpectedAddress,
      unmatched: transport.unmatchedResponses,
      late: transport.lateResponses,
      foreign_answer: counters.foreignAnswersDropped,
      unattributed_inf: counters.unattributedInfs,
    },
    devices: controller.pollViews().flatMap(({ deviceId, batchSize, stats }) => {
      const availability = controller.registry.get(deviceId)?.availability;
      if (availability === undefined) return [];
      const { requests, answers, timeouts, retries, getSna } = stats;
      return [{ deviceId, availability, requests, answers, timeouts, retries, getSna, batchSize }];
    }),
  };
}

function deviceView(device: DeviceRecord): DeviceView {
  return {
    id: device.deviceId,
    eoj: device.eoj,
    deviceType: guidelineDeviceType(device.eoj),
    address: device.address,
    manufacturer: device.manufacturer,
    availability: device.availability,
    lastSeenAt: device.lastSeenAt,
    latest: device.latest && { properties: device.latest.properties, raw: device.latest.raw, updatedAt: device.latest.ts },
  };
}

/** Free bytes where the database lives; null if the file system cannot be asked. */
function diskFree(dir: string): number | null {
  try {
    const fs = statfsSync(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

/** Whether the interface address is on one of this host's interfaces that is up now. */
function interfaceUp(address: string): boolean {
  return Object.values(networkInterfaces()).some((addresses) => addresses?.some((a) => a.address === address) ?? false);
}

/** Drops in the database and drops that never reached it, added up per reason; reasons with none left out. */
function droppedByReason(...parts: ReadonlyArray<Readonly<Record<string, number | undefined>>>): Record<string, number> {
  const total: Record<string, number> = {};
  for (const part of parts) {
    for (const [reason, n] of Object.entries(part)) {
      if (n !== undefined && n > 0) total[reason] = (total[reason] ?? 0) + n;
    }
  }
  return total;
}

function gatewayStatus(backends: ApiBackends, timeZone: string): GatewayStatus {
  const { siteId, startedAt, store, uplink, recorded, droppedUnsaved, waitingFor } = backends;
  const stats = store.stats();
  const link = uplink.status();
  const now = Date.now();
  return {
    siteId,
    uptimeSeconds: Math.round((now - startedAt) / 1000),
    uplink: {
      state: link.state === 'connected' ? 'connected' : 'disconnected',
      lastAckAt: link.lastAckAt ?? null,
      inFlight: link.inFlight ?? null,
      batchesAcknowledged: link.batchesAcknowledged,
      readingsAcknowledged: link.readingsAcknowledged,
      resends: link.resends,
      failure: link.state === 'connected' ? null : (link.failure ?? null),
      acksRejected: link.acksRejected,
      link: link.link,
    },
    backlog: {
      depth: stats.backlog,
      oldestUnsentAgeSeconds: stats.oldestUnsentAt === undefined ? null : Math.max(0, Math.round((Date.now() - stats.oldestUnsentAt) / 1000)),
    },
    readingsRecorded: recorded(),
    // Given up in the store (byte cap, a corrupt file) plus never saved (a full disk, a shutdown then).
    droppedReadings: stats.dropped + Object.values(droppedUnsaved()).reduce((sum, n) => sum + n, 0),
    droppedByReason: droppedByReason(store.droppedByReason(), droppedUnsaved()),
    databaseBytes: stats.databaseBytes,
    databaseCapBytes: backends.databaseCapBytes,
    diskFreeBytes: diskFree(backends.stateDir),
    clock: { now: new Date(now).toISOString(), plausible: now >= CLOCK_FLOOR_MS, timeZone },
    echonet: { interface: backends.interfaceAddress, up: interfaceUp(backends.interfaceAddress) },
    waitingFor: waitingFor(),
  };
}

/**
 * Ready while readings can be recorded and the devices can be heard (the ECHONET Lite transport is
 * bound); a lost uplink is not a reason, the store covers it.
 */
function readiness({ store, waitingFor }: ApiBackends): Readiness {
  const problem = store.health();
  const [first, ...rest] = [...(problem === undefined ? [] : [`reading store: ${problem}`]), ...waitingFor()];
  return first === undefined ? { ready: true } : { ready: false, reasons: [first, ...rest] };
}
