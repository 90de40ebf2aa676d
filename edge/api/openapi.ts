/**
 * The OpenAPI document, built from the routes' own schemas (so it cannot drift from what the API
 * validates and answers) and served at GET /openapi.json.
 */
import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import { BEARER_SCHEME } from './auth.js';

/** Must be registered before any route, so its onRoute hook sees them all. */
export function registerOpenApi(app: FastifyInstance, version: string): void {
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'echolake edge gateway: local API',
        version,
        description:
          'Read-only views of the ECHONET Lite devices this gateway sees (in the shape of the ECHONET Lite Web API ' +
          'guideline), their recent readings, and the gateway\'s own health. Routes that change anything need ' +
          '`Authorization: Bearer <api.token>`. Every error answers `{ "error": { "code", "message" } }`.',
      },
      components: { securitySchemes: { [BEARER_SCHEME]: { type: 'http', scheme: 'bearer' } } },
    },
    // Shared schemas appear under their own $id (e.g. ApiError) rather than as def-0, def-1, ...
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
}

export const openApiRoutes: FastifyPluginCallback = (app, _options, done) => {
  app.get('/openapi.json', {
    schema: {
      tags: ['gateway'],
      summary: 'This OpenAPI document',
      response: { 200: { type: 'object', additionalProperties: true } },
    },
  }, () => app.swagger());

  done();
};
