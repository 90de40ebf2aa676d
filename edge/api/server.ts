/**
 * The edge's local REST API for installers and local systems: devices and their latest values,
 * recent readings, the gateway's health and metrics, and the OpenAPI document describing it all.
 * It is a component: main starts it after the parts it reads from and stops it before them.
 */
import { type Socket, isIPv4, isIPv6 } from 'node:net';
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Component } from '../../shared/lifecycle.js';
import type { Logger } from '../../shared/log.js';
import { bearerTokenGuard } from './auth.js';
import { controlRoutes } from './control-routes.js';
import { deviceRoutes } from './devices-routes.js';
import { discoveryRoutes } from './discovery-routes.js';
import { limitConcurrency } from '../../shared/http/concurrency.js';
import { answerFrameworkError, installErrorHandling } from '../../shared/http/errors.js';
import { registerStaticPage } from '../../shared/http/static-pages.js';
import { EdgeMetrics, metricsRoutes } from './metrics.js';
import { openApiRoutes, registerOpenApi } from './openapi.js';
import { readingRoutes } from './readings-routes.js';
import type { ApiSources } from './sources.js';
import { statusRoutes } from './status-routes.js';

export interface ApiOptions {
  /**
   * The address to listen on. Give the LAN side's address: `0.0.0.0` or `::` also expose the API on
   * every other network the gateway is on (the uplink's, a VPN's), which the log then warns about.
   */
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  /** Bearer token for routes that change anything, at least 16 characters; without one they answer 403. */
  readonly token?: string | undefined;
  /** The gateway software's version, shown in the status, the metrics and the OpenAPI document. */
  readonly version: string;
  /** Requests served at once; more are answered 503 with Retry-After (the pipeline shares the event loop). */
  readonly maxConcurrentRequests: number;
}

/** Whether binding `host` exposes the API on every network the gateway is on, not only the LAN: the unspecified address in any spelling. */
export function listensOnEveryInterface(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(bare)) return bare === '0.0.0.0';
  return isIPv6(bare) && bare.split(':').every((group) => /^0*$/.test(group));
}

/** Per-request lines at debug: a scraper every 15 s would otherwise fill journald on an SD card. */
class QuietRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    request.log.debug({ method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request answered');
  }

  override routeNotFound(): void {}
}

export class ApiServer implements Component {
  readonly name = 'api';
  private listeningAt: string | undefined;

  constructor(
    /** The fastify instance, for `inject()` in tests. */
    readonly app: FastifyInstance,
    private readonly options: ApiOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const { host, port } = this.options;
    if (listensOnEveryInterface(host)) {
      this.log.warn({ host, port }, 'the local API listens on every interface; set api.host to the LAN address to keep it off other networks');
    }
    this.listeningAt = await this.app.listen({ host, port });
    this.log.info({ url: this.listeningAt }, 'local API listening');
  }

  async stop(): Promise<void> {
    await this.app.close();
  }

  /** The base URL it listens at, once started. */
  get url(): string {
    if (this.listeningAt === undefined) throw new Error('the API server has not started');
    return this.listeningAt;
  }
}

/** Node's own errors for requests it could not parse, answered as `{error:{code,message}}`. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const message = tooLarge ? 'the request\'s headers are too large (16 KiB at most)' : `the request could not be read: ${error.code ?? 'malformed'}`;
  const body = JSON.stringify({ error: { code: 'invalid_request', message } });
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function createApiServer(options: ApiOptions, sources: ApiSources, logger: Logger): ApiServer {
  const guard = bearerTokenGuard(options.token);
  const loggerInstance: FastifyBaseLogger = logger;
  const app = fastify({
    loggerInstance,
    logController: new QuietRequestLog(),
    // Nothing this API accepts is large; a small limit keeps a misbehaving client from using the Pi's memory.
    bodyLimit: 16 * 1024,
    // Without a reverse proxy in front, a request must not hold a connection open for ever.
    requestTimeout: 30_000,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 128 },
    // Unknown query parameters are answered with a 400 naming them, not silently dropped: `limt=5` is a typo to report.
    ajv: { customOptions: { removeAdditional: false } },
    frameworkErrors: answerFrameworkError,
    // Errors before any route sees the request (headers too large, a malformed request line) in the
    // API's own shape too, not Node's bare status line.
    clientErrorHandler: answerClientError,
  });
  const metrics = new EdgeMetrics(sources, options.version);

  installErrorHandling(app);
  limitConcurrency(app, options.maxConcurrentRequests);
  registerOpenApi(app, options.version);
  app.addHook('onResponse', (request, reply, done) => {
    metrics.countRequest(request.method, request.routeOptions.url, reply.statusCode);
    done();
  });
  void app.register(deviceRoutes, { devices: sources.devices, echonet: sources.echonet });
  void app.register(controlRoutes, { devices: sources.devices, control: sources.control, guard });
  void app.register(readingRoutes, { history: sources.history, devices: sources.devices });
  void app.register(statusRoutes, { status: sources.status, devices: sources.devices, version: options.version });
  void app.register(discoveryRoutes, { discovery: sources.discovery, guard });
  void app.register(metricsRoutes, { metrics });
  void app.register(openApiRoutes);
  // The status page for the technician on site: it reads the routes above, nothing else.
  registerStaticPage(app, { page: 'edge' });
  return new ApiServer(app, options, logger);
}
