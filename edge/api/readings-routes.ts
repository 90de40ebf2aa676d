/** A device's recent readings from the gateway's local history, in the reading contract's shape. */
import type { FastifyPluginCallback } from 'fastify';
import { ApiError, errorResponse, notFound } from '../../shared/http/errors.js';
import { propertyValuesSchema } from './elapi-device.js';
import { deviceParams, type DeviceParams } from './params.js';
import type { DeviceSource, ReadingHistory } from './sources.js';

const DEFAULT_READINGS_LIMIT = 100;
const MAX_READINGS_LIMIT = 1000;

interface ReadingsQuery {
  since?: string;
  limit: number;
}

const readingSchema = {
  type: 'object',
  description: 'values (kind poll or inf: properties and raw) or a device event (kind event: event)',
  required: ['v', 'siteId', 'seq', 'deviceId', 'eoj', 'address', 'ts', 'kind'],
  additionalProperties: false,
  properties: {
    v: { type: 'integer', description: 'reading contract version' },
    siteId: { type: 'string' },
    seq: { type: 'integer', description: 'the site\'s reading number; (siteId, seq) identifies a reading everywhere' },
    epoch: { type: 'string', description: 'the seq stream: new with every new database of the gateway' },
    deviceId: { type: 'string' },
    eoj: { type: 'string' },
    address: { type: 'string' },
    ts: { type: 'string', format: 'date-time', description: 'when the gateway received the values' },
    kind: { type: 'string', enum: ['poll', 'inf', 'event'] },
    properties: propertyValuesSchema,
    raw: { type: 'object', additionalProperties: { type: 'string' } },
    event: {
      type: 'object',
      description: 'found, moved (fromAddress, toAddress), online, unreachable, offline, propertyMapChanged',
      required: ['type'],
      additionalProperties: false,
      properties: { type: { type: 'string' }, fromAddress: { type: 'string' }, toAddress: { type: 'string' } },
    },
  },
} as const;

/** RFC 3339 allows what Date cannot hold (a leap second, 23:59:60): the history must only see real instants. */
function instantOf(since: string): Date {
  const instant = new Date(since);
  if (Number.isNaN(instant.getTime())) throw new ApiError(400, 'invalid_request', `query parameter 'since' is not an instant this gateway can use: ${since}`);
  return instant;
}

export const readingRoutes: FastifyPluginCallback<{ history: ReadingHistory; devices: DeviceSource }> = (
  app,
  { history, devices },
  done,
) => {
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
          properties: { deviceId: { type: 'string' }, readings: { type: 'array', items: readingSchema } },
        },
        400: errorResponse,
        404: errorResponse,
      },
    },
  }, (request) => {
    const { id } = request.params;
    const { since, limit } = request.query;
    const readings = history.readings(id, since === undefined ? { limit } : { since: instantOf(since), limit });
    // A device the registry has forgotten (it restarts empty) may still have history: only both empty is unknown.
    if (readings.length === 0 && devices.get(id) === undefined) throw notFound(`no device '${id}' is known to this gateway`);
    return { deviceId: id, readings };
  });

  done();
};
