import { randomUUID } from 'node:crypto';
import type { FromSchema } from 'json-schema-to-ts';
import type { Alert } from './alert.js';

/**
 * Silences (as in Alertmanager): while one matches an alert, nobody is notified of it; the alert
 * itself is still raised, written to the topic and listed, marked silenced. A silence matches by
 * rule, site and/or device (every field given must match) until its end.
 */

/** What an operator posts to `POST /api/v1/silences`. */
export const silenceRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['until', 'comment'],
  anyOf: [{ required: ['rule'] }, { required: ['siteId'] }, { required: ['deviceId'] }],
  properties: {
    rule: { type: 'string', minLength: 1, maxLength: 64 },
    siteId: { type: 'string', minLength: 1, maxLength: 64 },
    deviceId: { type: 'string', minLength: 1, maxLength: 128 },
    until: { type: 'string', format: 'date-time', description: 'when the silence ends (ISO-8601)' },
    comment: { type: 'string', minLength: 1, maxLength: 500, description: 'why, for the next operator' },
  },
} as const;

/** A silence as stored on the silences topic (key = id) and listed by the API. */
export const silenceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'until', 'comment', 'createdBy', 'createdAt'],
  properties: {
    id: { type: 'string' },
    rule: { type: 'string' },
    siteId: { type: 'string' },
    deviceId: { type: 'string' },
    until: { type: 'string', format: 'date-time' },
    comment: { type: 'string' },
    createdBy: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export type SilenceRequest = FromSchema<typeof silenceRequestSchema>;
export type Silence = FromSchema<typeof silenceSchema>;

/** Active silences kept at once; a silence beyond it is refused (they are meant to be few and short). */
export const MAX_SILENCES = 10_000;
/** The longest a silence may last: a forgotten one must not hide a site's alerts for good. */
export const MAX_SILENCE_MS = 90 * 24 * 3_600_000;

export function newSilence(request: SilenceRequest, operator: string, now: number): Silence | { problem: string } {
  const until = Date.parse(request.until);
  if (!Number.isFinite(until)) return { problem: `until ${request.until} is not a timestamp` };
  if (until <= now) return { problem: `until ${request.until} is not in the future` };
  if (until - now > MAX_SILENCE_MS) return { problem: `until ${request.until} is more than 90 days ahead; silence for less and renew it` };
  return { ...request, id: randomUUID(), until: new Date(until).toISOString(), createdBy: operator, createdAt: new Date(now).toISOString() };
}

export class Silences {
  private readonly byId = new Map<string, Silence>();

  /** Takes a silence (or its removal: null) from the silences topic. */
  apply(id: string, silence: Silence | null, now: number): void {
    if (silence === null || Date.parse(silence.until) <= now) this.byId.delete(id);
    else this.byId.set(id, silence);
  }

  get full(): boolean {
    return this.byId.size >= MAX_SILENCES;
  }

  /** The first active silence that matches the alert, or undefined. */
  matching(alert: Pick<Alert, 'rule' | 'siteId' | 'deviceId'>, now: number): Silence | undefined {
    for (const [id, silence] of this.byId) {
      if (Date.parse(silence.until) <= now) {
        this.byId.delete(id);
        continue;
      }
      if (silence.rule !== undefined && silence.rule !== alert.rule) continue;
      if (silence.siteId !== undefined && silence.siteId !== alert.siteId) continue;
      if (silence.deviceId !== undefined && silence.deviceId !== alert.deviceId) continue;
      return silence;
    }
    return undefined;
  }

  active(now: number): Silence[] {
    return [...this.byId.values()].filter((silence) => Date.parse(silence.until) > now);
  }
}
