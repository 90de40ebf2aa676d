import { parseJson } from '../../shared/parsed.js';
import type { AlertInput } from './evaluator.js';

export type ParsedInput = { ok: true; input: AlertInput } | { ok: false; error: string };

/**
 * A readings-topic record as the engine needs it. The ingest validated every reading against the
 * contract before Kafka took it, so this checks only what the engine relies on (cheaply: it runs
 * for every reading), and names what is wrong when a record is not a reading at all.
 */
export function parseAlertInput(value: Buffer | null): ParsedInput {
  if (value === null) return { ok: false, error: 'empty record (a tombstone?)' };
  const parsed = parseJson(value);
  if (!parsed.ok) return parsed;
  const json = parsed.value;
  if (typeof json !== 'object' || json === null) return { ok: false, error: 'not a JSON object' };
  const r = json as Record<string, unknown>;
  if (typeof r.siteId !== 'string') return { ok: false, error: 'siteId is not a string' };
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq)) return { ok: false, error: 'seq is not an integer' };
  if (typeof r.deviceId !== 'string') return { ok: false, error: 'deviceId is not a string' };
  if (typeof r.eoj !== 'string') return { ok: false, error: 'eoj is not a string' };
  if (typeof r.ts !== 'string' || !Number.isFinite(Date.parse(r.ts))) return { ok: false, error: 'ts is not a timestamp' };
  if (typeof r.kind !== 'string') return { ok: false, error: 'kind is not a string' };
  if (r.epoch !== undefined && typeof r.epoch !== 'string') return { ok: false, error: 'epoch is not a string' };
  if (r.receivedAt !== undefined && typeof r.receivedAt !== 'number') return { ok: false, error: 'receivedAt is not a number' };
  if (r.kind === 'event') {
    const event = r.event as { type?: unknown } | undefined;
    if (typeof event?.type !== 'string') return { ok: false, error: 'an event reading without event.type' };
    if (r.properties === undefined) r.properties = {};
  }
  if (typeof r.properties !== 'object' || r.properties === null || Array.isArray(r.properties)) return { ok: false, error: 'properties is not an object' };
  return { ok: true, input: r as unknown as AlertInput };
}
