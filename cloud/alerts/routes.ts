/** The alerts API: `GET /api/v1/alerts`, `GET|POST /api/v1/silences`, `DELETE /api/v1/silences/{id}` (operators only). */
import type { FastifyPluginCallback, preHandlerAsyncHookHandler } from 'fastify';
import { ApiError, errorResponse, notFound } from '../../shared/http/errors.js';
import { operatorSecurity } from '../http/auth.js';
import { alertSchema } from './alert.js';
import { MAX_SILENCES, newSilence, silenceRequestSchema, silenceSchema, type SilenceRequest, type Silences } from './silences.js';
import type { SilencesTopic } from './silences-topic.js';
import type { AlertView } from './view.js';

export interface AlertRoutesOptions {
  view: AlertView;
  silences: Silences;
  silencesTopic: SilencesTopic;
  operatorAuth: preHandlerAsyncHookHandler;
}

const alertViewSchema = { ...alertSchema, required: [...alertSchema.required, 'silenced'], properties: { ...alertSchema.properties, silenced: { type: 'boolean' } } };

interface AlertQuery {
  state?: 'firing' | 'resolved';
  site?: string;
  device?: string;
  rule?: string;
  limit: number;
}

export const alertRoutes: FastifyPluginCallback<AlertRoutesOptions> = (app, options, done) => {
  app.get<{ Querystring: AlertQuery }>('/api/v1/alerts', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['alerts'],
      summary: 'Recent alerts, newest first: firing ones and the latest resolved',
      security: operatorSecurity,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          state: { enum: ['firing', 'resolved'] },
          site: { type: 'string', maxLength: 64 },
          device: { type: 'string', maxLength: 128 },
          rule: { type: 'string', maxLength: 64 },
          limit: { type: 'integer', minimum: 1, maximum: 10_000, default: 500 },
        },
      },
      response: { 200: { type: 'object', properties: { alerts: { type: 'array', items: alertViewSchema } } }, 400: errorResponse, 401: errorResponse },
    },
  }, (request) => {
    const { state, site, device, rule, limit } = request.query;
    const now = Date.now();
    const alerts = options.view.list({ state, siteId: site, deviceId: device, rule, limit });
    return { alerts: alerts.map((alert) => ({ ...alert, silenced: options.silences.matching(alert, now) !== undefined })) };
  });

  app.get('/api/v1/silences', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['alerts'],
      summary: 'Active silences',
      security: operatorSecurity,
      response: { 200: { type: 'object', properties: { silences: { type: 'array', items: silenceSchema } } }, 401: errorResponse },
    },
  }, () => ({ silences: options.silences.active(Date.now()) }));

  app.post<{ Body: SilenceRequest }>('/api/v1/silences', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['alerts'],
      summary: 'Silence notifications of matching alerts (by rule, site and/or device) until a time; the alerts are still raised and listed',
      security: operatorSecurity,
      body: silenceRequestSchema,
      response: { 201: silenceSchema, 400: errorResponse, 401: errorResponse, 409: errorResponse },
    },
  }, async (request, reply) => {
    if (options.silences.full) throw new ApiError(409, 'conflict', `${MAX_SILENCES} silences are active already; remove some first`);
    const silence = newSilence(request.body, request.operator ?? 'operator', Date.now());
    if ('problem' in silence) throw new ApiError(400, 'invalid_request', silence.problem);
    await options.silencesTopic.add(silence);
    return reply.code(201).send(silence);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/silences/:id', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['alerts'],
      summary: 'End a silence now',
      security: operatorSecurity,
      params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 64 } } },
      response: { 204: { type: 'null' }, 401: errorResponse, 404: errorResponse },
    },
  }, async (request, reply) => {
    if (!options.silences.active(Date.now()).some((silence) => silence.id === request.params.id)) throw notFound(`no active silence ${request.params.id}`);
    await options.silencesTopic.remove(request.params.id, request.operator ?? 'operator');
    return reply.code(204).send();
  });
  done();
};
