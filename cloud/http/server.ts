/**
 * The cloud's API: one fastify app that every role adds its routes to (health, metrics and the
 * OpenAPI document are its own). It listens last, once every role is started, and stops first.
 */
import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { limitConcurrency } from '../../shared/http/concurrency.js';
import { answerFrameworkError, installErrorHandling } from '../../shared/http/errors.js';
import type { Component } from '../../shared/lifecycle.js';
import type { Logger } from '../../shared/log.js';
import { OPERATOR_SCHEME } from './auth.js';
import type { ApiConfig } from './config.js';

/** Named checks `/readyz` runs; each answers whether its part can do its work now. */
export type ReadinessProbe = () => boolean | Promise<boolean>;

/** Per-request lines at debug: the HTTPS ingest answers thousands a second. */
class QuietRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request answered');
  }

  override routeNotFound(): void {}
}

/** The largest body any route takes: a site's batch (`ingest.maxBatchBytes` is checked again by the route). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function createCloudApp(config: ApiConfig, version: string, log: Logger): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = log;
  const https = config.tls.certFile !== undefined && config.tls.keyFile !== undefined
    ? { https: { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } }
    : {};
  const app = fastify({
    loggerInstance,
    logController: new QuietRequestLog(),
    bodyLimit: MAX_BODY_BYTES,
    requestTimeout: 60_000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 128 },
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: answerFrameworkError,
    ...https,
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  limitConcurrency(app, config.maxConcurrentRequests);
  void app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'echolake cloud API',
        version,
        description:
          'Health, metrics, the site registry with live status, and the HTTPS ingest. Operator routes need ' +
          '`Authorization: Bearer <operator token>`; the ingest takes the site\'s secret. Errors answer `{ "error": { "code", "message" } }`.',
      },
      components: { securitySchemes: { [OPERATOR_SCHEME]: { type: 'http', scheme: 'bearer' } } },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  return app;
}

/** Health, readiness, metrics and the OpenAPI document. */
export function registerBaseRoutes(root: FastifyInstance, probes: ReadonlyMap<string, ReadinessProbe>, metrics: Registry): void {
  // As a plugin, so it loads after the OpenAPI plugin and its routes are in the document.
  void root.register((app, _options, done) => {
    baseRoutes(app, probes, metrics);
    done();
  });
}

function baseRoutes(app: FastifyInstance, probes: ReadonlyMap<string, ReadinessProbe>, metrics: Registry): void {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process answers', response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, () => ({ status: 'ok' }));
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'Every part can work now (Kafka reachable, roles started)',
        response: {
          200: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'boolean' } } } },
          503: { type: 'object', properties: { status: { type: 'string' }, checks: { type: 'object', additionalProperties: { type: 'boolean' } } } },
        },
      },
    },
    async (_request, reply) => {
      const checks: Record<string, boolean> = {};
      for (const [name, probe] of probes) checks[name] = await Promise.resolve(probe()).catch(() => false);
      const ready = Object.values(checks).every(Boolean);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );
  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics', produces: ['text/plain'] } }, async (_request, reply) => {
    return reply.type(metrics.contentType).send(await metrics.metrics());
  });
  app.get('/openapi.json', { schema: { tags: ['health'], summary: 'This OpenAPI document', response: { 200: { type: 'object', additionalProperties: true } } } }, () => app.swagger());
}

/** The API as a component: it listens after the roles started and closes before they stop. */
export class CloudApiServer implements Component {
  readonly name = 'api';
  private listeningAt: string | undefined;

  constructor(
    readonly app: FastifyInstance,
    private readonly config: ApiConfig,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.listeningAt = await this.app.listen({ host: this.config.host, port: this.config.port });
    this.log.info({ url: this.listeningAt }, 'cloud API listening');
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  get url(): string {
    if (this.listeningAt === undefined) throw new Error('the cloud API has not started');
    return this.listeningAt;
  }
}
