/** The commands API: `POST /api/v1/commands`, `GET /api/v1/commands/{id}` (operators only). */
import type { FastifyPluginCallback, preHandlerAsyncHookHandler } from 'fastify';
import { TARGET_STATES } from '../../shared/contract/commands.js';
import { ApiError, errorResponse, notFound } from '../../shared/http/errors.js';
import { operatorSecurity } from '../http/auth.js';
import type { SiteRegistry } from '../sites/registry.js';
import type { CommandsService } from './commands-service.js';
import { type CommandRequest, type DemandResponseRequest, type PlanLimits, campaignCommand, commandRequestSchema, demandResponseRequestSchema, planCommand } from './request.js';

export interface CommandRoutesOptions {
  service: CommandsService;
  sites: SiteRegistry;
  limits: PlanLimits;
  operatorAuth: preHandlerAsyncHookHandler;
}

const VALUES = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } } as const;
const STATE = { enum: TARGET_STATES } as const;

const commandViewSchema = {
  type: 'object',
  required: ['command', 'targets'],
  properties: {
    command: {
      type: 'object',
      properties: {
        commandId: { type: 'string' },
        author: { type: 'string' },
        reason: { type: 'string' },
        createdAt: { type: 'string' },
        notBefore: { type: 'string' },
        expiresAt: { type: 'string' },
        set: VALUES,
        setpointOffset: { type: 'integer' },
        restore: { type: 'boolean' },
        targets: {
          type: 'array',
          items: { type: 'object', properties: { siteId: { type: 'string' }, devices: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } } },
        },
      },
    },
    targets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          siteId: { type: 'string' },
          state: STATE,
          reason: { type: 'string' },
          publishedAt: { type: 'string' },
          devices: {
            type: 'array',
            items: {
              type: 'object',
              properties: { deviceId: { type: 'string' }, state: STATE, reason: { type: 'string' }, at: { type: 'string' }, values: VALUES, previous: VALUES },
            },
          },
        },
      },
    },
  },
} as const;

export const commandRoutes: FastifyPluginCallback<CommandRoutesOptions> = (app, options, done) => {
  const send = async (request: CommandRequest, operator: string | undefined) => {
    const plan = planCommand(request, options.sites.list(), operator ?? 'operator', Date.now(), options.limits);
    if ('problem' in plan) throw new ApiError(400, 'invalid_request', plan.problem);
    return options.service.create(plan.record);
  };

  app.post<{ Body: CommandRequest }>('/api/v1/commands', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['commands'],
      summary: 'Send a command to air conditioners: one device, a site, sites by list or by a location box; audited, carried out at most once per site',
      security: operatorSecurity,
      body: commandRequestSchema,
      response: { 201: commandViewSchema, 400: errorResponse, 401: errorResponse },
    },
  }, async (request, reply) => {
    const view = await send(request.body, request.operator);
    return reply.code(201).header('location', `/api/v1/commands/${view.command.commandId}`).send(view);
  });

  app.post<{ Body: DemandResponseRequest }>('/api/v1/demand-response', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['commands'],
      summary: 'A demand-response campaign: every unit of the sites moves its setpoint by the offset for the window, and back after (a command with restore)',
      security: operatorSecurity,
      body: demandResponseRequestSchema,
      response: { 201: commandViewSchema, 400: errorResponse, 401: errorResponse },
    },
  }, async (request, reply) => {
    const view = await send(campaignCommand(request.body), request.operator);
    return reply.code(201).header('location', `/api/v1/commands/${view.command.commandId}`).send(view);
  });

  app.get<{ Params: { id: string } }>('/api/v1/commands/:id', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['commands'],
      summary: 'A command and its state at every target site and device',
      security: operatorSecurity,
      params: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 64 } } },
      response: { 200: commandViewSchema, 401: errorResponse, 404: errorResponse },
    },
  }, (request) => {
    const view = options.service.view(request.params.id);
    if (view === undefined) throw notFound(`no command ${request.params.id} (older ones are in the audit topic only)`);
    return view;
  });
  done();
};
