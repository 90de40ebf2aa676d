/**
 * The HTTPS way in, for sites whose firewall passes only HTTPS: `POST /v1/sites/{siteId}/readings`
 * with the site's secret as bearer token and the batch envelope as body. The answer comes only
 * after Kafka acknowledged the whole batch, so the edge treats a 200 exactly like an MQTT ack.
 */
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import { ApiError, errorResponse } from '../../shared/http/errors.js';
import { SITE_ID_PATTERN } from '../../shared/reading-schema.js';
import { bearerTokenOf } from '../http/auth.js';
import type { SiteAuthorizer } from '../sites/authorizer.js';
import type { IngestCore } from './core.js';

export interface HttpsIngestOptions {
  core: IngestCore;
  authorizer: SiteAuthorizer;
  maxBatchBytes: number;
}

const ackSchema = {
  type: 'object',
  required: ['v', 'siteId', 'batchId', 'lastSeq'],
  properties: { v: { type: 'integer' }, siteId: { type: 'string' }, batchId: { type: 'string' }, lastSeq: { type: 'integer' } },
} as const;

export const httpsIngestRoutes: FastifyPluginCallback<HttpsIngestOptions> = (app: FastifyInstance, options, done) => {
  // The body goes to the core as the bytes the site sent: it is validated once there, not parsed twice.
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: options.maxBatchBytes }, (_request, body, parsed) => parsed(null, body));
  app.post<{ Params: { siteId: string } }>(
    '/v1/sites/:siteId/readings',
    {
      schema: {
        tags: ['ingest'],
        summary: 'Deliver one batch of readings (answered after Kafka has all of it)',
        description:
          'Body: the batch envelope `{v, siteId, batchId, readings}` exactly as on MQTT. 200: the ack. 422 with `ack`: the batch ' +
          'cannot be read and was kept as a dead letter; do not send it again. 401/403: credentials refused. 413: batch too large. ' +
          '503 (Retry-After): Kafka is unavailable; send the same batch again later.',
        params: { type: 'object', required: ['siteId'], additionalProperties: false, properties: { siteId: { type: 'string', pattern: SITE_ID_PATTERN } } },
        response: {
          200: ackSchema,
          401: errorResponse,
          403: errorResponse,
          413: errorResponse,
          422: { type: 'object', properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } }, ack: ackSchema } },
          503: errorResponse,
        },
      },
      // Before the body is read: a stranger cannot make the cloud buffer megabytes.
      onRequest: async (request) => {
        const { siteId } = request.params;
        const token = bearerTokenOf(request.headers.authorization);
        if (token === undefined) throw new ApiError(401, 'unauthorized', 'send the site\'s secret as Authorization: Bearer <secret>', { 'www-authenticate': 'Bearer realm="echolake-ingest"' });
        const result = await options.authorizer.authenticate(siteId, token);
        if (!result.ok) {
          request.log.warn({ siteId: siteId.slice(0, 64), ip: request.ip, reason: result.reason }, 'https ingest refused');
          if (result.reason === 'site-disabled') throw new ApiError(403, 'forbidden', result.detail);
          throw new ApiError(401, 'unauthorized', 'the site id and secret do not match a site in the registry', { 'www-authenticate': 'Bearer realm="echolake-ingest", error="invalid_token"' });
        }
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body)) throw new ApiError(400, 'invalid_request', 'send the batch as Content-Type: application/json');
      const outcome = await options.core.accept(request.params.siteId, body, { transport: 'https', channel: '/v1/sites/:siteId/readings' });
      switch (outcome.kind) {
        case 'ack':
          return reply.code(200).send(outcome.ack);
        case 'dead-letter':
          if (outcome.ack === undefined) throw new ApiError(403, 'forbidden', outcome.detail);
          return reply.code(422).send({ error: { code: 'dead_lettered', message: outcome.detail }, ack: outcome.ack });
        case 'unacked':
          if (outcome.reason === 'newer-contract') throw new ApiError(422, 'invalid_request', `${outcome.detail}; this cloud reads an older contract: keep the batch until it is updated`);
          throw new ApiError(503, 'unavailable', outcome.detail, { 'retry-after': '5' });
      }
    },
  );
  done();
};
