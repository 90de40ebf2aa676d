/**
 * The reading contract (edge → cloud): one JSON object per reading, the same shape in the
 * edge's outbox, on MQTT and in Kafka. `(siteId, seq)` is a reading's identity everywhere.
 */

export const READING_SCHEMA_VERSION = 1;

/**
 * The types are derived from the JSON schemas in reading-schema.ts (the one definition); here they
 * are named for the stages that use them.
 *
 * `seq` is monotonic per site, persisted, never reused. `epoch` is 16 lowercase hex digits, random,
 * made with the edge's database: a new database (after corruption or replacement) starts a new seq
 * stream the cloud can tell apart; readings of edges before it have none. `properties` are named as
 * in the ECHONET Lite machine-readable appendix (`null` where the device said "no valid value"),
 * `raw` is the EDT of every EPC the device answered, hex, keyed by the EPC.
 */
import type { EventReading, Reading } from './reading-schema.js';

export type { AnyReading, BatchAck, EventReading, Reading, ReadingBatch } from './reading-schema.js';

/** Kinds of readings that carry a device's values. */
export type ReadingKind = Reading['kind'];

/**
 * What happened to a device, as the edge saw it: `found`, `moved` (with both addresses), `online`,
 * `unreachable`, `offline`, `propertyMapChanged`. A string, so a newer edge's type is no error.
 */
export type DeviceEventDetail = EventReading['event'];

/** A decoded property value: `null` where the device said "no valid value". */
export type PropertyValue = Reading['properties'][string];

/** What the edge adds to what it records. */
export type Numbered = Pick<Reading, 'v' | 'siteId' | 'seq' | 'epoch'>;

/** What the ECHONET Lite controller observed of one object at one moment, before the buffer numbers it. */
export type Observation = Omit<Reading, keyof Numbered>;

/** A device event before the buffer numbers it: it travels through the same outbox and seq as values. */
export type DeviceEventObservation = Omit<EventReading, keyof Numbered>;

/** What the edge numbers and sends: values, or a device event. */
export type Recorded = Observation | DeviceEventObservation;
