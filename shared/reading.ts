/**
 * The reading contract (edge → cloud): one JSON object per reading, the same shape in the
 * edge's outbox, on MQTT and in Kafka. `(siteId, seq)` is a reading's identity everywhere.
 */

export const READING_SCHEMA_VERSION = 1;

/** Kinds of readings that carry a device's values. */
export type ReadingKind = 'poll' | 'inf';

/**
 * What happened to a device, as the edge saw it: `found`, `moved` (with both addresses), `online`,
 * `unreachable`, `offline`, `propertyMapChanged`. A string, so a newer edge's type is no error.
 */
export interface DeviceEventDetail {
  type: string;
  fromAddress?: string;
  toAddress?: string;
}

/** A decoded property value: `null` where the device said "no valid value". */
export type PropertyValue = string | number | boolean | null;

/** What the ECHONET Lite controller observed of one object at one moment, before the buffer numbers it. */
export interface Observation {
  /** Stable across IP changes: the node's identification number (0x83) and the object's EOJ. */
  deviceId: string;
  /** Six lowercase hex digits, e.g. `013001`. */
  eoj: string;
  /** The IP address the values came from. */
  address: string;
  /** When the gateway received the values, ISO-8601 UTC with milliseconds. */
  ts: string;
  kind: ReadingKind;
  /** Decoded properties named as in the ECHONET Lite machine-readable appendix; absent when not implemented. */
  properties: Record<string, PropertyValue>;
  /** The raw EDT of every EPC the device answered, hex, keyed by the EPC as two lowercase hex digits. */
  raw: Record<string, string>;
}

/** A device event before the buffer numbers it: it travels through the same outbox and seq as values. */
export interface DeviceEventObservation {
  deviceId: string;
  eoj: string;
  /** The device's address when it happened (the new one for a move). */
  address: string;
  ts: string;
  kind: 'event';
  event: DeviceEventDetail;
}

/** What the edge numbers and sends: values, or a device event. */
export type Recorded = Observation | DeviceEventObservation;

/** What the edge adds to what it records. */
export interface Numbered {
  v: typeof READING_SCHEMA_VERSION;
  siteId: string;
  /** Monotonic per site, persisted, never reused. */
  seq: number;
  /**
   * 16 lowercase hex digits, random, made with the edge's database: a new database (after
   * corruption or replacement) starts a new seq stream the cloud can tell apart. Every edge of this
   * release sends it; readings of older edges have none.
   */
  epoch?: string;
}

/** A reading of values as it leaves the gateway: an observation numbered by its site. */
export interface Reading extends Observation, Numbered {}

/** A device event as it leaves the gateway, numbered in the same seq as the readings. */
export interface EventReading extends DeviceEventObservation, Numbered {}

/** Anything a batch carries. */
export type AnyReading = Reading | EventReading;

/** One MQTT message on `echolake/v1/sites/{siteId}/readings`. */
export interface ReadingBatch {
  v: typeof READING_SCHEMA_VERSION;
  siteId: string;
  /** Identifies a resend of the same batch: `${firstSeq}-${lastSeq}`. */
  batchId: string;
  readings: AnyReading[];
}

/** The cloud's acknowledgement on `echolake/v1/sites/{siteId}/acks`, sent only after Kafka took the whole batch. */
export interface BatchAck {
  v: typeof READING_SCHEMA_VERSION;
  siteId: string;
  batchId: string;
  /** Every reading of this site with `seq <= lastSeq` is safely in Kafka. */
  lastSeq: number;
}
