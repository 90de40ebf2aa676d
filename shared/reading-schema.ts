import { Ajv } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { type Parsed, parseWithSchema } from './parsed.js';
import { READING_SCHEMA_VERSION } from './reading.js';

export type { Parsed } from './parsed.js';

const READING_CONTRACT = 'the reading contract';

/** Site ids appear in MQTT topics and Delta partition-free columns: keep them to a safe alphabet. */
export const SITE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';

/**
 * Ids and addresses are visible ASCII: no NUL, no control or bidi characters that would forge a
 * log line, hide a character in a table or break a reader.
 */
const VISIBLE_ASCII = '^[!-~]+$';
/** Text values may be any language, but not control or bidi-override characters. */
const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001f\\u007f-\\u009f\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]*$';
/** An EDT is at most 255 bytes: as hex, 510 characters. */
const MAX_VALUE_LENGTH = 512;

/** The most readings one batch may carry; the edge's batch limits stay below it. */
export const MAX_READINGS_PER_BATCH = 10_000;

/** What every reading carries, values or event. `epoch` is optional: edges before it sent none. */
const NUMBERED_FIELDS = {
  v: { const: READING_SCHEMA_VERSION, description: 'reading contract version' },
  siteId: { type: 'string', pattern: SITE_ID_PATTERN },
  seq: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "the site's reading number; (siteId, seq) identifies a reading everywhere" },
  epoch: { type: 'string', pattern: '^[0-9a-f]{16}$', description: 'the seq stream: new with every new database of the gateway' },
  deviceId: { type: 'string', minLength: 1, maxLength: 128, pattern: VISIBLE_ASCII, description: "the node's identification number (0x83) and the object's EOJ: stable across IP changes" },
  eoj: { type: 'string', pattern: '^[0-9a-f]{6}$' },
  address: { type: 'string', minLength: 1, maxLength: 64, pattern: VISIBLE_ASCII, description: 'the IP address the values came from' },
  ts: { type: 'string', format: 'date-time', description: 'when the gateway received the values, ISO-8601 UTC' },
} as const;

export const readingSchema = {
  type: 'object',
  required: ['v', 'siteId', 'seq', 'deviceId', 'eoj', 'address', 'ts', 'kind', 'properties', 'raw'],
  additionalProperties: false,
  properties: {
    ...NUMBERED_FIELDS,
    kind: { enum: ['poll', 'inf'] },
    properties: {
      type: 'object',
      maxProperties: 256,
      propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' },
      additionalProperties: {
        anyOf: [{ type: 'string', maxLength: MAX_VALUE_LENGTH, pattern: NO_CONTROL_CHARACTERS }, { type: ['number', 'boolean', 'null'] }],
      },
    },
    raw: {
      type: 'object',
      maxProperties: 256,
      propertyNames: { pattern: '^[0-9a-f]{2}$' },
      additionalProperties: { type: 'string', pattern: '^([0-9a-f]{2})*$', maxLength: 512 },
    },
  },
} as const;

/** A device event (found, moved, online, offline, …): no values, its own kind, the same seq. */
export const eventReadingSchema = {
  type: 'object',
  required: ['v', 'siteId', 'seq', 'deviceId', 'eoj', 'address', 'ts', 'kind', 'event'],
  additionalProperties: false,
  properties: {
    ...NUMBERED_FIELDS,
    kind: { const: 'event' },
    event: {
      type: 'object',
      description: 'found, moved (fromAddress, toAddress), online, unreachable, offline, propertyMapChanged',
      required: ['type'],
      additionalProperties: false,
      properties: {
        type: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9]{0,31}$' },
        fromAddress: { type: 'string', minLength: 1, maxLength: 64, pattern: VISIBLE_ASCII },
        toAddress: { type: 'string', minLength: 1, maxLength: 64, pattern: VISIBLE_ASCII },
      },
    },
  },
} as const;

export const batchSchema = {
  type: 'object',
  required: ['v', 'siteId', 'batchId', 'readings'],
  additionalProperties: false,
  properties: {
    v: { const: READING_SCHEMA_VERSION },
    siteId: { type: 'string', pattern: SITE_ID_PATTERN },
    batchId: { type: 'string', minLength: 1, maxLength: 64, pattern: VISIBLE_ASCII },
    readings: { type: 'array', minItems: 1, maxItems: MAX_READINGS_PER_BATCH, items: { oneOf: [readingSchema, eventReadingSchema] } },
  },
} as const;

export const ackSchema = {
  type: 'object',
  required: ['v', 'siteId', 'batchId', 'lastSeq'],
  additionalProperties: false,
  properties: {
    v: { const: READING_SCHEMA_VERSION },
    siteId: { type: 'string', pattern: SITE_ID_PATTERN },
    batchId: { type: 'string', minLength: 1, maxLength: 64, pattern: VISIBLE_ASCII },
    lastSeq: { type: 'integer', minimum: 1 },
  },
} as const;

/** A reading of values as it leaves the gateway: an observation numbered by its site. */
export type Reading = FromSchema<typeof readingSchema>;
/** A device event as it leaves the gateway, numbered in the same seq as the readings. */
export type EventReading = FromSchema<typeof eventReadingSchema>;
/** One MQTT message on `echolake/v1/sites/{siteId}/readings`. */
export type ReadingBatch = FromSchema<typeof batchSchema>;
/** The cloud's acknowledgement on `echolake/v1/sites/{siteId}/acks`, sent only after Kafka took the whole batch. */
export type BatchAck = FromSchema<typeof ackSchema>;
/** Anything a batch carries. */
export type AnyReading = Reading | EventReading;

/** ajv's own date-time format needs ajv-formats; ISO-8601 UTC is all the contract (and the alert records) allow. */
export const UTC_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
ajv.addFormat('date-time', UTC_DATE_TIME);
const validateBatchShape = ajv.compile<ReadingBatch>(batchSchema);
const validateAckShape = ajv.compile<BatchAck>(ackSchema);

/**
 * Parses one MQTT payload into a batch and checks what the schema cannot: every reading belongs
 * to the batch's site, and seqs strictly increase (the edge sends them in order).
 */
export function parseReadingBatch(payload: Buffer | string): Parsed<ReadingBatch> {
  const parsed = parseWithSchema(payload, validateBatchShape, READING_CONTRACT);
  if (!parsed.ok) return parsed;
  const batch = parsed.value;
  let previous = 0;
  for (const [index, reading] of batch.readings.entries()) {
    const problem = instantProblem(reading.ts);
    if (problem !== undefined) return { ok: false, error: `readings[${index}].${problem}` };
    if (reading.siteId !== batch.siteId) {
      return { ok: false, error: `readings[${index}].siteId ${reading.siteId} differs from the batch's ${batch.siteId}` };
    }
    if (reading.seq <= previous) {
      return { ok: false, error: `readings[${index}].seq ${reading.seq} does not increase (previous ${previous})` };
    }
    previous = reading.seq;
  }
  return { ok: true, value: batch };
}

export function parseBatchAck(payload: Buffer | string): Parsed<BatchAck> {
  return parseWithSchema(payload, validateAckShape, READING_CONTRACT);
}

const anyReadingSchema = { oneOf: [readingSchema, eventReadingSchema] } as const;
const validateReadingShape = ajv.compile<AnyReading>(anyReadingSchema);

/** One reading as stored in Kafka: values (`poll`, `inf`) or a device event (`event`), as a batch carries them. */
export function parseReading(payload: Buffer | string): Parsed<AnyReading> {
  const parsed = parseWithSchema(payload, validateReadingShape, READING_CONTRACT);
  if (!parsed.ok) return parsed;
  const problem = instantProblem(parsed.value.ts);
  if (problem !== undefined) return { ok: false, error: problem };
  return parsed;
}

/**
 * The lake's timestamps are microseconds since 1970 in a Parquet INT64 that goes through a JS
 * number: they hold 1970 up to 2255 exactly. A reading outside [1970, 2200) is a broken clock or
 * a hostile payload, and one of them would stop every lake commit of its partition for good.
 */
const EARLIEST_TS_MS = 0;
const LATEST_TS_MS = Date.UTC(2200, 0, 1);

/** Why a `ts` the pattern lets through is still no instant the contract takes, or undefined. */
function instantProblem(ts: string): string | undefined {
  const time = Date.parse(ts);
  // The pattern lets 25:00 or 30 February through; the calendar does not (and the lake partitions by the date).
  if (!Number.isFinite(time) || new Date(time).toISOString().slice(0, 19) !== ts.slice(0, 19)) return `ts ${ts} is not a real instant`;
  if (time < EARLIEST_TS_MS || time >= LATEST_TS_MS) return `ts ${ts} is outside 1970-01-01 to 2199-12-31; check the gateway's clock`;
  return undefined;
}
