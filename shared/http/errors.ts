/**
 * Every failure the API answers has one shape, `{ "error": { "code", "message" } }`. Bad input is
 * the client's to fix and gets a 4xx naming what was wrong; only our own faults give a 500, whose
 * details go to the log, not to the client.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'dead_lettered',
  'too_many_requests',
  'unsupported_media_type',
  'unavailable',
  'internal_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

const ERROR_SCHEMA_ID = 'ApiError';

const errorSchema = {
  $id: ERROR_SCHEMA_ID,
  type: 'object',
  description: 'What went wrong: a stable code for programs, a message for people.',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', enum: ERROR_CODES },
        message: { type: 'string' },
      },
    },
  },
} as const;

/** Use in a route's `response` map for each error status it can answer. */
export const errorResponse = { $ref: `${ERROR_SCHEMA_ID}#` } as const;

/** What a handler may answer on purpose; a 500 is never on purpose. */
export type ApiErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503;

/** A failure the client can act on (or wait out); handlers throw it and the error handler answers it. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: ApiErrorStatus,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export const notFound = (message: string): ApiError => new ApiError(404, 'not_found', message);

const errorBody = (code: ErrorCode, message: string): ErrorBody => ({ error: { code, message } });

/** Registers the error schema and makes every error, unknown routes included, answer in the one shape. */
export function installErrorHandling(app: FastifyInstance): void {
  app.addSchema(errorSchema);
  app.setErrorHandler(answerError);
  app.setNotFoundHandler(answerNotFound);
}

function answerError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) {
    return reply.code(error.statusCode).headers(error.headers).send(errorBody(error.code, error.message));
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    return reply.code(400).send(errorBody('invalid_request', describeValidation(fastifyError)));
  }
  const status = fastifyError.statusCode;
  // Fastify's own 4xx (a body it cannot parse, too large, wrong media type) are the client's to fix.
  if (status !== undefined && status >= 400 && status < 500) {
    return reply.code(status).send(errorBody(codeForClientStatus(status), fastifyError.message ?? 'bad request'));
  }
  request.log.error({ err: error, method: request.method, url: request.url }, 'request failed');
  return reply.code(500).send(errorBody('internal_error', 'the server failed to answer; its log has the details'));
}

/**
 * Errors fastify meets before any route runs (a URL it cannot decode, an over-long path parameter);
 * the error handler never sees them, so they get the one shape here.
 */
export function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const status = error.statusCode ?? 400;
  void reply.code(status).send(errorBody(codeForClientStatus(status), error.message));
}

function answerNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = request.url.split('?', 1)[0] ?? '';
  return reply.code(404).send(errorBody('not_found', `no route ${request.method} ${path.slice(0, 200)}`));
}

function codeForClientStatus(status: number): ErrorCode {
  switch (status) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    case 409:
      return 'conflict';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'too_many_requests';
    default:
      return 'invalid_request';
  }
}

const PLACE: Readonly<Record<string, string>> = {
  params: 'path parameter',
  querystring: 'query parameter',
  body: 'body field',
  headers: 'header',
};

/** Names the field at fault, e.g. "query parameter 'limit' must be <= 1000", from the first schema error. */
function describeValidation(error: Partial<FastifyError>): string {
  const first = error.validation?.[0];
  const place = PLACE[error.validationContext ?? ''] ?? 'request field';
  if (first === undefined) return error.message ?? 'the request does not match its schema';
  const { params } = first;
  if (first.keyword === 'additionalProperties') return `unknown ${place} '${String(params.additionalProperty)}'`;
  if (first.keyword === 'required') return `${place} '${String(params.missingProperty)}' is required`;
  const field = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const what = field === '' ? `the ${error.validationContext ?? 'request'}` : `${place} '${field}'`;
  return `${what} ${first.message ?? 'is invalid'}`;
}
