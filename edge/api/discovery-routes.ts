/** Starting an ECHONET Lite search on demand, e.g. right after an installer connected a new aircon. */
import type { FastifyPluginCallback } from 'fastify';
import { bearerSecurity, type OnRequestGuard } from './auth.js';
import { ApiError, errorResponse } from '../../shared/http/errors.js';
import type { DiscoveryTrigger } from './sources.js';

export const discoveryRoutes: FastifyPluginCallback<{ discovery: DiscoveryTrigger; guard: OnRequestGuard }> = (
  app,
  { discovery, guard },
  done,
) => {
  // Requests arriving while a search runs join it: one multicast search at a time is enough for the LAN.
  let running: Promise<number> | undefined;
  const searchOnce = (): Promise<number> => {
    running ??= discovery.searchNow().finally(() => {
      running = undefined;
    });
    return running;
  };

  app.post('/api/v1/discovery', {
    onRequest: guard,
    schema: {
      tags: ['discovery'],
      summary: 'Search the LAN for ECHONET Lite nodes now',
      description: 'Answers once the search window closed, with how many nodes answered. Needs the bearer token (api.token).',
      security: bearerSecurity,
      response: {
        200: {
          type: 'object',
          required: ['nodesAnswered'],
          additionalProperties: false,
          properties: { nodesAnswered: { type: 'integer', minimum: 0 } },
        },
        401: errorResponse,
        403: errorResponse,
        503: errorResponse,
      },
    },
  }, async (request) => {
    try {
      return { nodesAnswered: await searchOnce() };
    } catch (err) {
      request.log.warn({ err }, 'discovery on request failed');
      throw new ApiError(503, 'unavailable', 'the search could not run; the gateway log says why');
    }
  });

  done();
};
