import { Ajv } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { READING_SCHEMA_VERSION, type BatchAck } from '../reading.js';

/**
 * The batch and ack envelopes, encoded here only, by edge and cloud alike.
 *
 * A batch is written from the readings' stored JSON as it is: the edge keeps each reading as the
 * JSON it will send, so a batch of 500 needs no parse and re-serialise per reading.
 */
export function encodeBatch(siteId: string, batchId: string, readingsJson: readonly string[]): string {
  return `{"v":${READING_SCHEMA_VERSION},"siteId":${JSON.stringify(siteId)},"batchId":${JSON.stringify(batchId)},"readings":[${readingsJson.join(',')}]}`;
}

/** A batch's id: the first and last seq it carries, so a resend has the same id. */
export function batchIdOf(firstSeq: number, lastSeq: number): string {
  return `${firstSeq}-${lastSeq}`;
}

export function ackFor(siteId: string, batchId: string, lastSeq: number): BatchAck {
  return { v: READING_SCHEMA_VERSION, siteId, batchId, lastSeq };
}

export function encodeAck(ack: BatchAck): string {
  return JSON.stringify(ack);
}

/**
 * The edge's retained message on `echolake/v1/sites/{siteId}/status`: online with its backlog when
 * it connects (and again every few minutes), offline as its last will and when it stops. Edges
 * before this envelope sent the bare words `online` and `offline`; those still parse.
 */
export const siteStatusSchema = {
  type: 'object',
  required: ['v', 'state'],
  additionalProperties: false,
  properties: {
    v: { const: READING_SCHEMA_VERSION },
    state: { enum: ['online', 'offline'] },
    backlog: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'readings not yet acknowledged by the cloud' },
    oldestUnsentAt: { type: 'string', format: 'date-time', description: 'when the oldest of them was received' },
  },
} as const;

export type SiteStatusReport = FromSchema<typeof siteStatusSchema>;

/** A status message is a few dozen bytes; anything far larger is not one. */
export const MAX_SITE_STATUS_BYTES = 1024;

const ajv = new Ajv({ strict: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
const validateSiteStatus = ajv.compile<SiteStatusReport>(siteStatusSchema);

export function encodeSiteStatus(report: SiteStatusReport): string {
  return JSON.stringify(report);
}

/** The report, or undefined for what is not one (too large, not JSON, not the schema). */
export function parseSiteStatus(payload: Buffer): SiteStatusReport | undefined {
  if (payload.length > MAX_SITE_STATUS_BYTES) return undefined;
  const text = payload.toString('utf8');
  if (text === 'online' || text === 'offline') return { v: READING_SCHEMA_VERSION, state: text };
  try {
    const json: unknown = JSON.parse(text);
    return validateSiteStatus(json) ? json : undefined;
  } catch {
    return undefined;
  }
}
