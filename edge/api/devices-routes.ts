/**
 * The ECHONET Lite Web API guideline's read-only device routes under /elapi/v1, and one gateway
 * route listing every device with its latest values and request statistics in one answer (what the
 * status page polls: one request every few seconds rather than one per device).
 */
import type { FastifyPluginCallback } from 'fastify';
import { errorResponse, notFound } from '../../shared/http/errors.js';
import {
  describeDevice,
  deviceDescriptionSchema,
  deviceOverviewSchema,
  deviceSummarySchema,
  propertiesOf,
  propertyValueSchema,
  propertyValuesSchema,
  summarise,
} from './elapi-device.js';
import { deviceParams, devicePropertyParams, type DeviceParams, type DevicePropertyParams } from './params.js';
import type { DeviceSource, DeviceView, EchonetDeviceStats, EchonetSource } from './sources.js';

const tags = ['elapi'];

/** The request statistics the page shows: those of the controller, less what the availability already says. */
function requestStats(stats: EchonetDeviceStats | undefined): Omit<EchonetDeviceStats, 'deviceId' | 'availability'> | null {
  if (stats === undefined) return null;
  const { requests, answers, timeouts, retries, getSna, batchSize } = stats;
  return { requests, answers, timeouts, retries, getSna, batchSize };
}

export const deviceRoutes: FastifyPluginCallback<{ devices: DeviceSource; echonet: EchonetSource }> = (app, { devices, echonet }, done) => {
  const deviceOrNotFound = (id: string): DeviceView => {
    const device = devices.get(id);
    if (device === undefined) throw notFound(`no device '${id}' is known to this gateway`);
    return device;
  };

  app.get('/elapi/v1/devices', {
    schema: {
      tags,
      summary: 'Every device the gateway knows',
      response: {
        200: {
          type: 'object',
          required: ['devices'],
          additionalProperties: false,
          properties: { devices: { type: 'array', items: deviceSummarySchema } },
        },
      },
    },
  }, () => ({ devices: devices.list().map(summarise) }));

  app.get('/api/v1/devices', {
    schema: {
      tags: ['gateway'],
      summary: 'Every device with its latest values and request statistics (what the status page shows)',
      response: {
        200: {
          type: 'object',
          required: ['devices'],
          additionalProperties: false,
          properties: { devices: { type: 'array', items: deviceOverviewSchema } },
        },
      },
    },
  }, () => {
    const stats = new Map(echonet.stats().devices.map((s) => [s.deviceId, s]));
    return { devices: devices.list().map((device) => ({ ...describeDevice(device), requests: requestStats(stats.get(device.id)) })) };
  });

  app.get<{ Params: DeviceParams }>('/elapi/v1/devices/:id', {
    schema: {
      tags,
      summary: 'One device: type, maker, address, availability and latest values',
      params: deviceParams,
      response: { 200: deviceDescriptionSchema, 400: errorResponse, 404: errorResponse },
    },
  }, (request) => describeDevice(deviceOrNotFound(request.params.id)));

  app.get<{ Params: DeviceParams }>('/elapi/v1/devices/:id/properties', {
    schema: {
      tags,
      summary: 'The device\'s latest value of every property it implements',
      params: deviceParams,
      response: { 200: propertyValuesSchema, 400: errorResponse, 404: errorResponse },
    },
  }, (request) => propertiesOf(deviceOrNotFound(request.params.id)));

  app.get<{ Params: DevicePropertyParams }>('/elapi/v1/devices/:id/properties/:name', {
    schema: {
      tags,
      summary: 'The latest value of one property, as { "<name>": value }',
      description: 'A property the device does not implement (or has not reported yet) is a 404; one it reported as "no valid value" is null.',
      params: devicePropertyParams,
      response: {
        200: { type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: propertyValueSchema },
        400: errorResponse,
        404: errorResponse,
      },
    },
  }, (request) => {
    const { id, name } = request.params;
    const properties = propertiesOf(deviceOrNotFound(id));
    if (!Object.hasOwn(properties, name)) throw notFound(`device '${id}' has no property '${name}'`);
    return { [name]: properties[name] };
  });

  done();
};
