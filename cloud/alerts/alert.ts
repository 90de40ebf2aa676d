import { createHash } from 'node:crypto';
import { Ajv } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { type Parsed, parseWithSchema } from '../../shared/parsed.js';
import { UTC_DATE_TIME } from '../../shared/reading-schema.js';

/**
 * One alert record on the `alerts` Kafka topic (key = `id`), JSON. A firing alert produces two
 * records in its life: `state: 'firing'` once, then `state: 'resolved'` once, with the same id.
 * Everything in it is derived from the readings and the rules, so a replay after a restart or a
 * rebalance produces byte-identical records: consumers (the lake, the webhook) deduplicate by
 * `(id, state)`.
 */
export const alertSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'id', 'state', 'rule', 'ruleType', 'severity', 'summary', 'scope', 'siteId', 'deviceId', 'site', 'cause', 'startsAt', 'endsAt', 'windowStart', 'windowEnd', 'value', 'threshold'],
  properties: {
    v: { const: 1 },
    /** 32 hex digits: sha-256 of rule, subject and the start of the episode (a window start, a reading time or the last time heard). */
    id: { type: 'string', pattern: '^[0-9a-f]{32}$' },
    state: { enum: ['firing', 'resolved'] },
    rule: { type: 'string' },
    ruleType: { enum: ['window', 'instant', 'absence'] },
    severity: { enum: ['info', 'warning', 'critical'] },
    summary: { type: 'string' },
    scope: { enum: ['device', 'site'] },
    siteId: { type: 'string' },
    /** The device for device-scoped rules, null for site-scoped ones. */
    deviceId: { type: ['string', 'null'] },
    /** The site as the registry knew it when the alert was raised; the location travels with every alert. */
    site: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'timeZone', 'location'],
      properties: {
        name: { type: 'string' },
        timeZone: { type: 'string' },
        location: {
          anyOf: [
            { type: 'null' },
            { type: 'object', additionalProperties: false, required: ['latitude', 'longitude'], properties: { latitude: { type: 'number' }, longitude: { type: 'number' } } },
          ],
        },
      },
    },
    /**
     * Why the alert fired: threshold (a window aggregate), condition (an instant value), silent (nothing heard),
     * offline (the gateway reported the device offline). On a resolved record only, rule-changed: the rule was
     * removed or changed in what it evaluates while the alert fired, so the reload ended it, not the readings.
     */
    cause: { enum: ['threshold', 'condition', 'silent', 'offline', 'rule-changed'] },
    startsAt: { type: 'string', format: 'date-time' },
    /** When the condition ended; null while firing. */
    endsAt: { type: ['string', 'null'], format: 'date-time' },
    /** The window whose result fired (or resolved) the alert; null for instant and absence rules. */
    windowStart: { type: ['string', 'null'], format: 'date-time' },
    windowEnd: { type: ['string', 'null'], format: 'date-time' },
    /** The aggregate or property value that fired (resolved) it. */
    value: { type: ['number', 'string', 'boolean', 'null'] },
    /** The threshold it was compared with, after site settings and referenced properties were applied. */
    threshold: { type: ['number', 'string', 'boolean', 'null'] },
  },
} as const;

export type Alert = FromSchema<typeof alertSchema>;
export type AlertState = Alert['state'];

/** The deterministic alert id: the same rule, subject and episode start always give the same id. */
export function alertId(rule: string, subject: string, startMs: number): string {
  return createHash('sha256').update(`${rule}\u0000${subject}\u0000${startMs}`).digest('hex').slice(0, 32);
}

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
ajv.addFormat('date-time', UTC_DATE_TIME);
const validateAlert = ajv.compile<Alert>(alertSchema);

/** One record of the alerts topic, checked against the schema (for consumers that store it: the lake). */
export function parseAlert(value: Buffer | null): Parsed<Alert> {
  if (value === null) return { ok: false, error: 'empty record (a tombstone?)' };
  return parseWithSchema(value, validateAlert, 'the alert schema');
}
