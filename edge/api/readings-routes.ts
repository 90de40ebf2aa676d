/** A device's recent readings from the gateway's local history, in the reading contract's shape. */
import type { FastifyPluginCallback } from 'fastify';
import { ApiError, errorResponse, notFound } from '../../shared/http/errors.js';
import { eventReadingSchema, readingSchema } from '../../shared/reading-schema.js';
import { deviceParams, type DeviceParams } from './params.js';
import type { DeviceSource, ReadingHistory } from './sources.js';

const DEFAULT_READINGS_LIMIT = 100;
const MAX_READINGS_LIMIT = 1000;
/**
 * History rows all clients together may ask for per second. Reading and serialising rows runs on
 * the event loop the pipeline shares: 3,000 requests of 1,000 rows pushed the uplink's round trip
 * from 50 ms to 4 s. Past this budget a request gets a 429 with Retry-After, not the event loop.
 */
export const HISTORY_ROWS_PER_SECOND = 20_000;

/** A token bucket of rows, refilled continuously, holding at most one second's worth. */
export class RowBudget {
  private available: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.available = perSecond;
    this.updatedAt = now();
  }

  /** Takes `rows` if there are that many; else how many seconds until there will be. */
  take(rows: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const now = this.now();
    this.available = Math.min(this.perSecond, this.available + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    if (rows <= this.available) {
      this.available -= rows;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((rows - this.available) / this.perSecond)) };
  }
}

interface ReadingsQuery {
  since?: string;
  limit: number;
}


/** RFC 3339 allows what Date cannot hold (a leap second, 23:59:60): the history must only see real instants. */
function instantOf(since: string): Date {
  const instant = new Date(since);
  if (Number.isNaN(instant.getTime())) throw new ApiError(400, 'invalid_request', `query parameter 'since' is not an instant this gateway can use: ${since}`);
  return instant;
}

export const readingRoutes: FastifyPluginCallback<{ history: ReadingHistory; devices: DeviceSource; rowsPerSecond?: number }> = (
  app,
  { history, devices, rowsPerSecond = HISTORY_ROWS_PER_SECOND },
  done,
) => {
  const budget = new RowBudget(rowsPerSecond);
  app.get<{ Params: DeviceParams; Querystring: ReadingsQuery }>('/api/v1/devices/:id/readings', {
    schema: {
      tags: ['readings'],
      summary: 'The device\'s readings from the local history, oldest first',
      description:
        'Without `since`: the newest `limit` readings. With `since`: the first `limit` readings received at or after it. ' +
        'To page forward, pass the last reading\'s `ts` as the next `since` and skip readings whose `seq` you already have ' +
        '(readings sharing that instant come again). The gateway keeps a limited history; the cloud has every reading.',
      params: deviceParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          since: { type: 'string', format: 'date-time', description: 'RFC 3339 instant, e.g. 2026-11-23T05:00:00Z' },
          limit: { type: 'integer', minimum: 1, maximum: MAX_READINGS_LIMIT, default: DEFAULT_READINGS_LIMIT },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['deviceId', 'readings'],
          additionalProperties: false,
          properties: { deviceId: { type: 'string' }, readings: { type: 'array', items: { oneOf: [readingSchema, eventReadingSchema] } } },
        },
        400: errorResponse,
        404: errorResponse,
        429: errorResponse,
      },
    },
  }, (request, reply) => {
    const { id } = request.params;
    const { since, limit } = request.query;
    const allowed = budget.take(limit);
    if (!allowed.ok) {
      void reply.header('retry-after', String(allowed.retryAfterSeconds));
      throw new ApiError(429, 'too_many_requests', `history requests are over ${rowsPerSecond} rows a second all together; retry after ${allowed.retryAfterSeconds} s or ask for fewer rows`);
    }
    const readings = history.readings(id, since === undefined ? { limit } : { since: instantOf(since), limit });
    // A device the registry has forgotten (it restarts empty) may still have history: only both empty is unknown.
    if (readings.length === 0 && devices.get(id) === undefined) throw notFound(`no device '${id}' is known to this gateway`);
    return { deviceId: id, readings };
  });

  done();
};
