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
