/**
 * The HTTPS way in, for sites whose firewall passes only HTTPS: `POST /v1/sites/{siteId}/readings`
 * with the site's secret as bearer token and the batch envelope as body. The answer comes only
 * after Kafka acknowledged the whole batch, so the edge treats a 200 exactly like an MQTT ack.
 */
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { ApiError, errorResponse } from '../../shared/http/errors.js';
import type { Logger } from '../../shared/log.js';
import { RepeatedWarnings } from '../../shared/repeated-warnings.js';
import { SITE_ID_PATTERN } from '../../shared/reading-schema.js';
import { bearerTokenOf } from '../http/auth.js';
import type { Refusal, SiteAuthorizer } from '../sites/authorizer.js';
import type { DeadLetterReason, IngestCore } from './core.js';

export interface HttpsIngestOptions {
  core: IngestCore;
  authorizer: SiteAuthorizer;
  maxBatchBytes: number;
  /** Where the refusal counter goes (the context's registry). */
  metrics: Registry;
}

/** Why a request was refused: the label of `echolake_https_ingest_refused_total`. */
export type HttpsRefusal = Refusal | 'no-bearer' | 'not-a-site' | 'too-large' | 'not-json' | DeadLetterReason;

/** How long a client refused for `busy` waits: a secret check takes about 50 ms, so a slot frees soon. */
const BUSY_RETRY_AFTER_SECONDS = 2;
/** A refusal of a kind (reason and site) is logged once per window; the rest of the window is one summary line. */
const REFUSAL_LOG_WINDOW_MS = 10_000;

const ackSchema = {
  type: 'object',
  required: ['v', 'siteId', 'batchId', 'lastSeq'],
  properties: { v: { type: 'integer' }, siteId: { type: 'string' }, batchId: { type: 'string' }, lastSeq: { type: 'integer' } },
} as const;

export const httpsIngestRoutes: FastifyPluginCallback<HttpsIngestOptions> = (app: FastifyInstance, options, done) => {
  const refused = new Counter({
    name: 'echolake_https_ingest_refused_total',
    help: 'HTTPS ingest requests refused (credentials, size, media type, a batch not the site\'s own), by reason',
    labelNames: ['reason'],
    registers: [options.metrics],
  });
  // Anyone can repeat a refused request at will: a flood makes a few lines, not one per request.
  const warnings = new RepeatedWarnings(app.log as Logger, REFUSAL_LOG_WINDOW_MS);
  app.addHook('onClose', (_app, closed) => {
    warnings.flush();
    closed();
  });
  type Request = FastifyRequest<{ Params: { siteId: string } }>;
  const note = (request: Request, reason: HttpsRefusal, status: number | undefined, detail: string): void => {
    refused.inc({ reason });
    const siteId = request.params.siteId.slice(0, 64);
    warnings.warn(`${reason}:${siteId}`, { siteId, ip: request.ip, reason, status, detail }, 'https ingest refused');
  };
  /** Counts and logs the refusal and gives the error to throw. */
  const refuse = (request: Request, reason: HttpsRefusal, error: ApiError): ApiError => {
    note(request, reason, error.statusCode, error.message);
    return error;
  };
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
          'cannot be read and was kept as a dead letter; do not send it again. 401/403: credentials refused, or a batch naming ' +
          'another site. 413: batch too large. 503 (Retry-After): Kafka is unavailable, or too many secrets are being checked ' +
          'at once; send the same batch again later.',
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
        if (token === undefined) {
          throw refuse(request, 'no-bearer', new ApiError(401, 'unauthorized', 'send the site\'s secret as Authorization: Bearer <secret>', { 'www-authenticate': 'Bearer realm="echolake-ingest"' }));
        }
        const result = await options.authorizer.authenticate(siteId, token, request.ip);
        if (!result.ok) throw refuse(request, result.reason, refusalError(result.reason, result.detail));
        // The cloud's own credentials name no site: nothing may be delivered as (or for) it.
        if (result.identity.kind !== 'site' || result.identity.siteId !== siteId) {
          throw refuse(request, 'not-a-site', new ApiError(403, 'forbidden', 'only a site delivers readings, with its own secret'));
        }
        const announced = Number(request.headers['content-length']);
        if (announced > options.maxBatchBytes) throw refuse(request, 'too-large', tooLarge(announced, options.maxBatchBytes));
      },
      // A body that turned out longer than announced (or was chunked), or of another media type:
      // fastify refuses it before the handler runs; counted here.
      onError: async (request, _reply, error: FastifyError) => {
        if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') note(request, 'too-large', error.statusCode, error.message);
        else if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') note(request, 'not-json', error.statusCode, error.message);
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!Buffer.isBuffer(body)) throw refuse(request, 'not-json', new ApiError(400, 'invalid_request', 'send the batch as Content-Type: application/json'));
      const outcome = await options.core.accept(request.params.siteId, body, { transport: 'https', channel: '/v1/sites/:siteId/readings' });
      switch (outcome.kind) {
        case 'ack':
          return reply.code(200).send(outcome.ack);
        case 'dead-letter':
          if (outcome.ack !== undefined) return reply.code(422).send({ error: { code: 'dead_lettered', message: outcome.detail }, ack: outcome.ack });
          // Kept, but not acknowledged: a batch that is not the site's own, or whose seqs cannot be read.
          if (outcome.reason === 'invalid' || outcome.reason === 'too-large') throw new ApiError(422, 'dead_lettered', outcome.detail);
          throw refuse(request, outcome.reason, new ApiError(403, 'forbidden', outcome.detail));
        case 'unacked':
          if (outcome.reason === 'newer-contract') throw new ApiError(422, 'invalid_request', `${outcome.detail}; this cloud reads an older contract: keep the batch until it is updated`);
          throw new ApiError(503, 'unavailable', outcome.detail, { 'retry-after': '5' });
      }
    },
  );
  done();
};

/** 401 for credentials that do not match, 403 for a disabled site, 503 while secret checks are at their limit. */
function refusalError(reason: Refusal, detail: string): ApiError {
  if (reason === 'site-disabled') return new ApiError(403, 'forbidden', detail);
  if (reason === 'busy') return new ApiError(503, 'unavailable', detail, { 'retry-after': String(BUSY_RETRY_AFTER_SECONDS) });
  return new ApiError(401, 'unauthorized', 'the site id and secret do not match a site in the registry', { 'www-authenticate': 'Bearer realm="echolake-ingest", error="invalid_token"' });
}

function tooLarge(bytes: number, limit: number): ApiError {
  return new ApiError(413, 'payload_too_large', `a batch of ${bytes} bytes is over ingest.maxBatchBytes ${limit}; lower the edge's uplink.batchMaxBytes`);
}
