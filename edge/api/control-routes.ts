/**
 * Local control, in the ECHONET Lite Web API guideline's shape: `PUT
 * /elapi/v1/devices/{id}/properties/{name}` with `{ "<name>": value }` sets the property with SetC
 * and answers what the device reports afterwards. For local systems and the edge's page, behind
 * the API token; the values are the command contract's (spec names, the reading's values).
 */
import type { FastifyPluginCallback } from 'fastify';
import { checkSettable } from '../../shared/contract/commands.js';
import { ApiError, errorResponse, notFound } from '../../shared/http/errors.js';
import { bearerSecurity, type OnRequestGuard } from './auth.js';
import { propertyValueSchema } from './elapi-device.js';
import { devicePropertyParams, type DevicePropertyParams } from './params.js';
import type { DeviceControl, DeviceSource } from './sources.js';

const oneValue = { type: 'object', minProperties: 1, maxProperties: 1, additionalProperties: propertyValueSchema } as const;

export const controlRoutes: FastifyPluginCallback<{ devices: DeviceSource; control: DeviceControl; guard: OnRequestGuard }> = (app, { devices, control, guard }, done) => {
  app.put<{ Params: DevicePropertyParams; Body: Record<string, unknown> }>('/elapi/v1/devices/:id/properties/:name', {
    onRequest: guard,
    schema: {
      tags: ['elapi'],
      summary: 'Set one property, e.g. { "targetTemperature": 26 }; answers the value read back from the device',
      description:
        'Settable: operationStatus (true/false), operationMode, targetTemperature (°C), airFlowLevel (1–8 or "auto"). Needs the bearer token (api.token). ' +
        'A device that refuses answers 409, one that does not answer 503.',
      security: bearerSecurity,
      params: devicePropertyParams,
      body: oneValue,
      response: { 200: oneValue, 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse, 503: errorResponse },
    },
  }, async (request) => {
    const { id, name } = request.params;
    if (devices.get(id) === undefined) throw notFound(`no device '${id}' is known to this gateway`);
    if (!Object.hasOwn(request.body, name)) throw new ApiError(400, 'invalid_request', `the body must be { "${name}": value }, naming the property of the path`);
    const checked = checkSettable({ [name]: request.body[name] });
    if (!checked.ok) throw new ApiError(400, 'invalid_request', `${name}: ${checked.error.replace(/^\/\S+ /, '')} (settable: operationStatus, operationMode, targetTemperature, airFlowLevel)`);
    const set = await control.set(id, checked.value);
    if (!set.ok) {
      request.log.info({ deviceId: id, property: name, reason: set.reason, detail: set.message }, 'local set failed');
      if (set.reason === 'UNKNOWN_DEVICE') throw notFound(set.message);
      if (set.reason === 'INVALID_VALUE') throw new ApiError(400, 'invalid_request', set.message);
      if (set.reason === 'REJECTED') throw new ApiError(409, 'conflict', set.message);
      throw new ApiError(503, 'unavailable', `the device did not answer: ${set.message}`);
    }
    request.log.info({ deviceId: id, property: name, value: checked.value[name as keyof typeof checked.value] }, 'property set through the local API');
    const after = await control.read(id, [name]);
    if (!after.ok || !Object.hasOwn(after.values, name)) throw new ApiError(503, 'unavailable', `set, but the device did not answer the read-back${after.ok ? '' : `: ${after.message}`}`);
    return { [name]: after.values[name] };
  });
  done();
};
