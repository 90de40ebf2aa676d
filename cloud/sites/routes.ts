/** The site registry with each site's live status, for operators: `GET /api/v1/sites`, `/api/v1/sites/{id}`. */
import type { FastifyPluginCallback, preHandlerAsyncHookHandler } from 'fastify';
import { errorResponse, notFound } from '../../shared/http/errors.js';
import { SITE_ID_PATTERN } from '../../shared/reading-schema.js';
import { operatorSecurity } from '../http/auth.js';
import type { Site, SiteRegistry } from './registry.js';
import { MAX_DEVICES_PER_SITE, MAX_EVENTS_PER_SITE } from './site-devices.js';
import type { SiteStatusBoard } from './status-board.js';

export interface SiteRoutesOptions {
  sites: SiteRegistry;
  status: SiteStatusBoard;
  operatorAuth: preHandlerAsyncHookHandler;
}

const siteViewSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    enabled: { type: 'boolean' },
    location: { type: 'object', properties: { latitude: { type: 'number' }, longitude: { type: 'number' } } },
    timeZone: { type: 'string' },
    thresholds: { type: 'object', additionalProperties: { type: 'number' } },
    secrets: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, createdAt: { type: 'string' } } } },
    status: {
      type: 'object',
      properties: {
        online: { type: 'boolean' },
        lastSeenAt: { type: 'string', nullable: true },
        lastBatchAt: { type: 'string', nullable: true },
        lastSeq: { type: 'integer', nullable: true },
        backlog: { type: 'integer', nullable: true },
        oldestUnsentAt: { type: 'string', nullable: true },
        readings: { type: 'integer', minimum: 0, description: 'readings taken into Kafka since this process started' },
        devices: {
          type: 'object',
          description: `devices named by the site's batches since this process started (at most ${MAX_DEVICES_PER_SITE}), and those whose latest availability event was not offline`,
          properties: { online: { type: 'integer' }, total: { type: 'integer' }, capped: { type: 'boolean', description: 'the site named more devices than are tracked' } },
        },
      },
    },
  },
} as const;

const deviceSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    eoj: { type: 'string' },
    address: { type: 'string' },
    lastSeenAt: { type: 'string', description: 'when the gateway last received anything of it' },
    online: { type: 'boolean', description: 'false when its latest availability event was offline' },
    properties: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] }, description: 'its latest values' },
  },
} as const;

const eventSchema = {
  type: 'object',
  properties: {
    deviceId: { type: 'string' },
    ts: { type: 'string', description: 'when the gateway saw it' },
    type: { type: 'string', description: 'found, moved, online, unreachable, offline, propertyMapChanged' },
    fromAddress: { type: 'string' },
    toAddress: { type: 'string' },
  },
} as const;

const siteIdParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string', pattern: SITE_ID_PATTERN } } } as const;

export const siteRoutes: FastifyPluginCallback<SiteRoutesOptions> = (app, options, done) => {
  const view = (site: Site) => {
    const live = options.status.get(site.id);
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      ...site,
      // Never the hashes: an operator sees which secrets exist, not what they are.
      secrets: site.secrets.map((secret) => ({ id: secret.id, createdAt: secret.createdAt })),
      status: {
        online: live.online,
        lastSeenAt: iso(live.lastSeenAt),
        lastBatchAt: iso(live.lastBatchAt),
        lastSeq: live.lastSeq ?? null,
        backlog: live.reported?.backlog ?? null,
        oldestUnsentAt: live.reported?.oldestUnsentAt ?? null,
        readings: live.readings,
        devices: options.status.deviceCounts(site.id),
      },
    };
  };
  app.get('/api/v1/sites', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['sites'],
      summary: 'Every site in the registry, with its live status',
      security: operatorSecurity,
      response: { 200: { type: 'object', properties: { sites: { type: 'array', items: siteViewSchema } } }, 401: errorResponse },
    },
  }, () => ({ sites: options.sites.list().map(view) }));
  app.get<{ Params: { id: string } }>('/api/v1/sites/:id', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['sites'],
      summary: 'One site with its live status',
      security: operatorSecurity,
      params: siteIdParams,
      response: { 200: siteViewSchema, 401: errorResponse, 404: errorResponse },
    },
  }, (request) => {
    const site = options.sites.get(request.params.id);
    if (site === undefined) throw notFound(`no site ${request.params.id}`);
    return view(site);
  });
  app.get<{ Params: { id: string } }>('/api/v1/sites/:id/devices', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['sites'],
      summary: `The site's devices with their latest values, from its batches since this process started (at most ${MAX_DEVICES_PER_SITE})`,
      security: operatorSecurity,
      params: siteIdParams,
      response: { 200: { type: 'object', properties: { devices: { type: 'array', items: deviceSchema } } }, 401: errorResponse, 404: errorResponse },
    },
  }, (request) => {
    if (options.sites.get(request.params.id) === undefined) throw notFound(`no site ${request.params.id}`);
    return { devices: options.status.siteDevices(request.params.id) };
  });
  app.get<{ Params: { id: string } }>('/api/v1/sites/:id/events', {
    preHandler: options.operatorAuth,
    schema: {
      tags: ['sites'],
      summary: `The site's latest device events, newest first, from its batches since this process started (at most ${MAX_EVENTS_PER_SITE})`,
      security: operatorSecurity,
      params: siteIdParams,
      response: { 200: { type: 'object', properties: { events: { type: 'array', items: eventSchema } } }, 401: errorResponse, 404: errorResponse },
    },
  }, (request) => {
    if (options.sites.get(request.params.id) === undefined) throw notFound(`no site ${request.params.id}`);
    return { events: options.status.siteEvents(request.params.id) };
  });
  done();
};
