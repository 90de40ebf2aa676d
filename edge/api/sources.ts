/**
 * The ports the local API reads from and the one action it may ask for. Main implements them over
 * the device registry, the local history, the outbox and uplink, and the ECHONET Lite controller;
 * the API knows nothing else of the edge, so those parts can change without the API noticing.
 * Timestamps are ISO-8601 UTC strings, as in the reading contract.
 */
import type { AnyReading, PropertyValue } from '../../shared/reading.js';

/** Whether a device answers, as the registry tracks it. */
export type Availability = 'online' | 'unreachable' | 'offline';

export interface LatestValues {
  /** Decoded properties named as in the machine-readable appendix; `null` where the device said "no valid value". */
  readonly properties: Readonly<Record<string, PropertyValue>>;
  /** The raw EDT in hex, keyed by the EPC as two lowercase hex digits. */
  readonly raw: Readonly<Record<string, string>>;
  /** When the newest of these values arrived. */
  readonly updatedAt: string;
}

export interface DeviceView {
  /** The reading contract's deviceId: only `[0-9A-Za-z._-]`. */
  readonly id: string;
  /** Six lowercase hex digits, e.g. `013001`. */
  readonly eoj: string;
  /** As the Web API guideline names it (`homeAirConditioner`), or the class code (`0x0291`). */
  readonly deviceType: string;
  /** The IP address the device answers at now. */
  readonly address: string;
  /** Maker code (EPC 0x8A), six lowercase hex digits; null until the device told us. */
  readonly manufacturer: string | null;
  readonly availability: Availability;
  /** Last time the device answered or announced anything. */
  readonly lastSeenAt: string;
  /** Null until the device's first values arrive. */
  readonly latest: LatestValues | null;
}

export interface DeviceSource {
  list(): readonly DeviceView[];
  get(deviceId: string): DeviceView | undefined;
}

export interface ReadingQuery {
  /** Only readings received at or after this instant; without it, the newest readings. */
  readonly since?: Date;
  /** At most this many readings, 1–1000. */
  readonly limit: number;
}

export interface ReadingHistory {
  /**
   * One device's readings from the local history, oldest first: with `since`, the first `limit`
   * readings whose `ts` is at or after it; without, the newest `limit` readings. Empty when none.
   */
  readings(deviceId: string, query: ReadingQuery): readonly AnyReading[];
}

export type UplinkState = 'connected' | 'disconnected';

export interface UplinkView {
  readonly state: UplinkState;
  /** When the cloud last acknowledged a batch; null if it has not since the gateway started. */
  readonly lastAckAt: string | null;
  /** The batch waiting for the cloud's acknowledgement, if any. */
  readonly inFlight: { readonly batchId: string; readonly attempts: number } | null;
  /** Counters since the gateway started. */
  readonly batchesAcknowledged: number;
  readonly readingsAcknowledged: number;
  readonly resends: number;
  /** Why the last attempt to reach the cloud failed; null while the link works. */
  readonly failure: { readonly reason: string; readonly detail: string; readonly at: string } | null;
  /** Acks not taken, by reason (malformed, another site's, not the batch in flight, wrong topic). */
  readonly acksRejected: Readonly<Record<string, number>>;
  /** The transport's own counts: oversized packets dropped (MQTT), refusals and dead letters (HTTPS). */
  readonly link: Readonly<Record<string, number>>;
}

export interface BacklogView {
  /** Readings stored but not yet acknowledged by the cloud. */
  readonly depth: number;
  /** How long the oldest of them has waited; null when the backlog is empty. */
  readonly oldestUnsentAgeSeconds: number | null;
}

export interface GatewayStatus {
  readonly siteId: string;
  readonly uptimeSeconds: number;
  readonly uplink: UplinkView;
  readonly backlog: BacklogView;
  /** Readings this gateway recorded since it started. */
  readonly readingsRecorded: number;
  /** Readings given up unsent (at the byte cap, or with the corrupt file the database replaced), over the life of the database. */
  readonly droppedReadings: number;
  /** The same by reason: `cap`, `corrupt` (in the database), `disk-full`, `shutdown` (never saved). */
  readonly droppedByReason: Readonly<Record<string, number>>;
  /** Bytes of the SQLite database in use: its pages, not the file size (freed pages are reused). */
  readonly databaseBytes: number;
  /** The database's byte cap (buffer.maxBytes): at it, the oldest unsent readings are given up. */
  readonly databaseCapBytes: number;
  /** Free bytes on the state directory's file system; null when it cannot be read. */
  readonly diskFreeBytes: number | null;
  /**
   * The gateway's clock: a Pi without a real-time clock or NTP starts far in the past. `timeZone`
   * is the site's IANA zone (the system's, or TZ), in which the status page shows times.
   */
  readonly clock: { readonly now: string; readonly plausible: boolean; readonly timeZone: string };
  /** The ECHONET Lite interface (this gateway's address on the aircons' LAN) and whether it is up. */
  readonly echonet: { readonly interface: string; readonly up: boolean };
  /** What the gateway waits for before it can do its whole job (an address not yet on this host); empty when nothing. */
  readonly waitingFor: readonly string[];
}

/** Ready to do its job, or the reasons it is not (at least one). */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reasons: readonly [string, ...string[]] };

export interface StatusSource {
  status(): GatewayStatus;
  ready(): Readiness;
}

export interface DiscoveryTrigger {
  /** Multicasts a search now; resolves with how many nodes answered within the search window. */
  searchNow(): Promise<number>;
}

/** One polled device as the ECHONET Lite controller counts it, since the edge started. */
export interface EchonetDeviceStats {
  readonly deviceId: string;
  readonly availability: Availability;
  readonly requests: number;
  readonly answers: number;
  readonly timeouts: number;
  readonly retries: number;
  readonly getSna: number;
  /** EPCs per Get it is asked now (learned from its answers). */
  readonly batchSize: number;
}

/** The ECHONET Lite side of the gateway, since it started. */
export interface EchonetStats {
  readonly searches: number;
  readonly framesIn: number;
  readonly framesOut: number;
  /**
   * Frames (or answers) dropped, by reason: `malformed`, `unexpected_address` (an answer to our TID
   * from an address we did not ask: spoofed or confused), `unmatched` (an answer to nothing we
   * asked), `late`, `foreign_answer` (from a node that took a moved device's address),
   * `unattributed_inf`.
   */
  readonly framesDropped: Readonly<Record<string, number>>;
  readonly devices: readonly EchonetDeviceStats[];
}

export interface EchonetSource {
  stats(): EchonetStats;
}

/** Setting a property of a device and reading it back (EchonetController's setProperties and readProperties). */
export interface DeviceControl {
  set(
    deviceId: string,
    values: Readonly<Record<string, PropertyValue>>,
  ): Promise<{ ok: true } | { ok: false; reason: 'UNKNOWN_DEVICE' | 'INVALID_VALUE' | 'REJECTED' | 'NO_ANSWER'; message: string }>;
  read(
    deviceId: string,
    names: readonly string[],
  ): Promise<{ ok: true; values: Record<string, PropertyValue> } | { ok: false; reason: 'UNKNOWN_DEVICE' | 'UNKNOWN_PROPERTY' | 'NO_ANSWER'; message: string }>;
}

/** The command executor's counts since start, and the results waiting for the link. */
export interface CommandStats {
  readonly received: number;
  readonly invalid: number;
  readonly duplicates: number;
  readonly refused: number;
  readonly expired: number;
  readonly executed: number;
  readonly restores: number;
  readonly resultsPending: number;
}

export interface CommandsSource {
  stats(): CommandStats;
}

export interface ApiSources {
  readonly devices: DeviceSource;
  readonly control: DeviceControl;
  readonly commands: CommandsSource;
  readonly history: ReadingHistory;
  readonly status: StatusSource;
  readonly discovery: DiscoveryTrigger;
  readonly echonet: EchonetSource;
}
