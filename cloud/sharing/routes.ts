/**
 * The Delta Sharing REST protocol (delta-io/delta-sharing PROTOCOL.md) as a fastify plugin under
 * `sharing.prefix`: shares, schemas, tables (paged), table version, metadata and query for
 * recipients' bearer tokens, and the signed file route that serves local-folder tables' files.
 * Errors answer `{ "errorCode", "message" }` as the protocol (and its clients) expect.
 */
import { Readable } from 'node:stream';
import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import { ApiError } from '../../shared/http/errors.js';
import type { RepeatedWarnings } from '../../shared/repeated-warnings.js';
import { bearerTokenOf } from '../http/auth.js';
import type { ObjectStore } from '../lake/storage/object-store.js';
import { pageOf, type Catalog, type SharedTable } from './catalog.js';
import type { SharingConfig } from './config.js';
import { forbidden, invalidParameter, notFound, SharingError, unauthenticated } from './errors.js';
import { metadataAnswer, queryAnswer, tableVersion, type Answer, type QueryBody } from './query.js';
import type { RecipientDirectory } from './recipients.js';
import type { UrlSigner } from './signed-url.js';
import type { SharedTables } from './tables.js';

export interface SharingRoutesOptions {
  config: SharingConfig;
  catalog: Catalog;
  recipients: RecipientDirectory;
  tables: SharedTables;
  signer: UrlSigner;
  /** Requests refused, by reason (`unauthenticated`, `forbidden`, `not_found`, `invalid`). */
  refused: Counter<'reason'>;
  /** Refusals anyone on the network can repeat at will (unknown tokens, forged URLs): logged once per window. */
  warnings: RepeatedWarnings;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The recipient a sharing request was authenticated as. */
    sharingRecipient?: { name: string; shares: ReadonlySet<string> };
  }
}

/** A query body is a few hints and versions; nothing near this. */
const QUERY_BODY_LIMIT = 256 * 1024;
/** Bytes read from the store per step when serving a file: memory stays flat whatever the file's size. */
const FILE_CHUNK_BYTES = 4 * 1024 * 1024;
const NDJSON = 'application/x-ndjson; charset=utf-8';
/** Characters of NDJSON sent per write: a hundred or so file lines. */
const NDJSON_CHUNK_CHARS = 64 * 1024;

const NAME_PARAM = { type: 'string', minLength: 1, maxLength: 128 } as const;
const shareParams = { type: 'object', required: ['share'], properties: { share: NAME_PARAM } } as const;
const schemaParams = { type: 'object', required: ['share', 'schema'], properties: { share: NAME_PARAM, schema: NAME_PARAM } } as const;
const tableParams = { type: 'object', required: ['share', 'schema', 'table'], properties: { share: NAME_PARAM, schema: NAME_PARAM, table: NAME_PARAM } } as const;
/**
 * maxResults from 1: PROTOCOL.md (and the reference server) allow 0, "no results but nextPageToken
 * may be populated", but such a page can only point back where it started, so a client paging with
 * 0 asks the same page forever. A 400 naming the fix ends that on its first request.
 */
const pageQuery = {
  type: 'object',
  properties: { maxResults: { type: 'integer', minimum: 1, maximum: 2147483647 }, pageToken: { type: 'string', maxLength: 1024 } },
} as const;
const travelQuery = {
  type: 'object',
  properties: { version: { type: 'integer', minimum: 0 }, timestamp: { type: 'string', maxLength: 64 }, startingTimestamp: { type: 'string', maxLength: 64 } },
} as const;
const VERSION = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const queryBodySchema = {
  type: 'object',
  // Fields of later protocol versions (refresh tokens, paging of files, …) are accepted and ignored.
  additionalProperties: true,
  properties: {
    predicateHints: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 4096 } },
    jsonPredicateHints: { type: 'string', maxLength: 65536 },
    limitHint: { type: 'integer', minimum: 0 },
    version: VERSION,
    timestamp: { type: 'string', maxLength: 64 },
    startingVersion: VERSION,
    endingVersion: VERSION,
  },
} as const;

type ShareParams = { share: string };
type SchemaParams = ShareParams & { schema: string };
type TableParams = SchemaParams & { table: string };
type PageQuery = { maxResults?: number; pageToken?: string };

export const sharingRoutes: FastifyPluginCallback<SharingRoutesOptions> = (app, options, done) => {
  const { config, catalog } = options;
  app.setErrorHandler((error, request, reply) => answerError(error, request, reply, options.refused));
  app.setNotFoundHandler((request, reply) => {
    options.refused.inc({ reason: 'not_found' });
    return reply.code(404).send({ errorCode: 'RESOURCE_DOES_NOT_EXIST', message: `no route ${request.method} ${(request.url.split('?', 1)[0] ?? '').slice(0, 200)}` });
  });

  const authenticate = (request: FastifyRequest): void => {
    const token = bearerTokenOf(request.headers.authorization);
    if (token === undefined) throw unauthenticated('this endpoint needs Authorization: Bearer <token> (the bearerToken of your profile file)');
    const result = options.recipients.authenticate(token);
    if (!result.ok) {
      if (result.reason === 'expired') throw unauthenticated(`the bearer token expired at ${result.expiredAt}: ask the data provider for a new profile file`);
      options.warnings.warn('unknown-token', { ip: request.ip, url: request.url.split('?', 1)[0]?.slice(0, 200) }, 'sharing request refused: unknown bearer token');
      throw unauthenticated('the bearer token is not known to this server');
    }
    request.sharingRecipient = { name: result.recipient, shares: result.shares };
  };

  /** The share by name, if this recipient was granted it: 404 when there is no such share, 403 when it is not theirs. */
  const grantedShare = (request: FastifyRequest, name: string): string => {
    const share = catalog.share(name);
    if (share === undefined) throw notFound(`share ${name} does not exist`);
    if (!request.sharingRecipient?.shares.has(share.name.toLowerCase())) throw forbidden(`share ${share.name} is not shared with recipient ${request.sharingRecipient?.name ?? '?'}`);
    return share.name;
  };
  const sharedTable = (request: FastifyRequest, params: TableParams): SharedTable => {
    const share = grantedShare(request, params.share);
    if (catalog.schema(share, params.schema) === undefined) throw notFound(`schema ${params.schema} does not exist in share ${share}`);
    const table = catalog.table(share, params.schema, params.table);
    if (table === undefined) throw notFound(`table ${params.table} does not exist in ${share}.${params.schema}`);
    return table;
  };
  const tableItem = (table: SharedTable) => ({ name: table.name, schema: table.schema, share: table.share });
  const baseUrl = (request: FastifyRequest): string => (config.publicUrl !== '' ? config.publicUrl : `${request.protocol}://${request.host}`);

  void app.register((api, _options, registered) => {
    // Before the body is read or checked: a stranger's request costs a header lookup, nothing more.
    api.addHook('onRequest', (request, _reply, next) => {
      try {
        authenticate(request);
        next();
      } catch (err) {
        next(err as Error);
      }
    });

    api.get<{ Querystring: PageQuery }>('/shares', { schema: { querystring: pageQuery } }, (request) => {
      const shares = catalog.listShares().filter((share) => request.sharingRecipient?.shares.has(share.name.toLowerCase()));
      return pageOf(shares.map((share) => ({ name: share.name })), request.query.maxResults, request.query.pageToken, config.maxPageSize);
    });
    api.get<{ Params: ShareParams }>('/shares/:share', { schema: { params: shareParams } }, (request) => ({ share: { name: grantedShare(request, request.params.share) } }));
    api.get<{ Params: ShareParams; Querystring: PageQuery }>('/shares/:share/schemas', { schema: { params: shareParams, querystring: pageQuery } }, (request) => {
      const share = grantedShare(request, request.params.share);
      const schemas = (catalog.share(share)?.schemas ?? []).map((schema) => ({ name: schema.name, share }));
      return pageOf(schemas, request.query.maxResults, request.query.pageToken, config.maxPageSize);
    });
    api.get<{ Params: SchemaParams; Querystring: PageQuery }>('/shares/:share/schemas/:schema/tables', { schema: { params: schemaParams, querystring: pageQuery } }, (request) => {
      const share = grantedShare(request, request.params.share);
      const schema = catalog.schema(share, request.params.schema);
      if (schema === undefined) throw notFound(`schema ${request.params.schema} does not exist in share ${share}`);
      return pageOf(catalog.tablesOf(share, schema.name).map(tableItem), request.query.maxResults, request.query.pageToken, config.maxPageSize);
    });
    api.get<{ Params: ShareParams; Querystring: PageQuery }>('/shares/:share/all-tables', { schema: { params: shareParams, querystring: pageQuery } }, (request) => {
      const share = grantedShare(request, request.params.share);
      return pageOf(catalog.tablesOf(share).map(tableItem), request.query.maxResults, request.query.pageToken, config.maxPageSize);
    });

    const versionHandler = async (request: FastifyRequest<{ Params: TableParams; Querystring: { startingTimestamp?: string } }>, reply: FastifyReply) => {
      const version = await tableVersion(options.tables.source(sharedTable(request, request.params)), request.query.startingTimestamp);
      return reply.header('delta-table-version', String(version)).send();
    };
    api.get<{ Params: TableParams; Querystring: { startingTimestamp?: string } }>('/shares/:share/schemas/:schema/tables/:table/version', { schema: { params: tableParams, querystring: travelQuery } }, versionHandler);
    // The older form of the same question, still used by some clients.
    api.head<{ Params: TableParams; Querystring: { startingTimestamp?: string } }>('/shares/:share/schemas/:schema/tables/:table', { schema: { params: tableParams, querystring: travelQuery } }, versionHandler);
    api.get<{ Params: TableParams; Querystring: { version?: number; timestamp?: string } }>(
      '/shares/:share/schemas/:schema/tables/:table/metadata',
      { schema: { params: tableParams, querystring: travelQuery } },
      async (request, reply) => sendAnswer(reply, await metadataAnswer(options.tables.source(sharedTable(request, request.params)), request.query)),
    );
    api.post<{ Params: TableParams; Body: QueryBody }>(
      '/shares/:share/schemas/:schema/tables/:table/query',
      { bodyLimit: QUERY_BODY_LIMIT, schema: { params: tableParams, body: queryBodySchema } },
      async (request, reply) => {
        const table = sharedTable(request, request.params);
        return sendAnswer(reply, await queryAnswer(options.tables, table, request.body ?? {}, baseUrl(request), config.maxVersionsPerQuery));
      },
    );
    api.get<{ Params: TableParams }>('/shares/:share/schemas/:schema/tables/:table/changes', { schema: { params: tableParams } }, (request) => {
      sharedTable(request, request.params);
      throw invalidParameter('the change data feed is not enabled on this table (it is append-only: follow it with startingVersion queries instead)');
    });
    registered();
  });

  app.route<{ Params: { share: string; schema: string; table: string; '*': string }; Querystring: { expires: string; size: string; sig: string } }>({
    method: ['GET', 'HEAD'],
    url: '/files/:share/:schema/:table/*',
    schema: {
      params: { type: 'object', properties: { share: NAME_PARAM, schema: NAME_PARAM, table: NAME_PARAM, '*': { type: 'string', minLength: 1, maxLength: 1024 } } },
      querystring: {
        type: 'object',
        required: ['expires', 'size', 'sig'],
        properties: { expires: { type: 'string', pattern: '^[0-9]{1,15}$' }, size: { type: 'string', pattern: '^[0-9]{1,15}$' }, sig: { type: 'string', maxLength: 64 } },
      },
    },
    handler: async (request, reply) => {
      const { share, schema, table: name } = request.params;
      const table = catalog.table(share, schema, name);
      const key = request.params['*'];
      const file = { path: table === undefined ? '' : `${table.share}/${table.schema}/${table.name}/${key}`, size: Number(request.query.size), expiresAt: Number(request.query.expires) };
      const verdict = table === undefined ? 'invalid' : options.signer.verify(file, request.query.sig);
      if (verdict !== 'valid' || table === undefined || !isDataKey(key)) {
        options.warnings.warn(`file-url-${verdict}`, { ip: request.ip, verdict }, 'sharing file URL refused');
        throw forbidden(verdict === 'expired' ? `this file URL expired at ${new Date(file.expiresAt).toISOString()}: query the table again for fresh URLs` : 'this file URL was not signed by this server (altered or made up)');
      }
      return serveFile(request, reply, options.tables.source(table).store, key, file.size);
    },
  });
  done();
};

/** Data files only: never the log (the signature already says so; this is the second lock). */
function isDataKey(key: string): boolean {
  return !key.startsWith('_delta_log/') && !key.split('/').some((part) => part === '..' || part === '' || part === '.');
}

/**
 * Streams the answer's lines as NDJSON, a chunk at a time as the client takes them (backpressure):
 * however many files a table has, an answer holds one chunk, not the whole body. The first chunk is
 * made before the status is sent, so a refusal found there still answers in the protocol's shape; a
 * failure later can only cut the response short (chunked encoding: the client sees it broken, not ended).
 */
async function sendAnswer(reply: FastifyReply, answer: Answer): Promise<FastifyReply> {
  const chunks = ndjsonChunks(answer.lines);
  const first = await chunks.next();
  async function* body(): AsyncGenerator<string> {
    if (first.done === true) return;
    yield first.value;
    yield* chunks;
  }
  return reply
    .header('content-type', NDJSON)
    .header('delta-table-version', String(answer.version))
    .header('delta-sharing-capabilities', 'responseformat=parquet')
    .send(Readable.from(body(), { objectMode: false }));
}

/** NDJSON text in chunks of about NDJSON_CHUNK_CHARS: fewer, larger writes than one per line. */
async function* ndjsonChunks(lines: Iterable<unknown> | AsyncIterable<unknown>): AsyncGenerator<string, void, undefined> {
  let chunk = '';
  for await (const line of lines) {
    chunk += `${JSON.stringify(line)}\n`;
    if (chunk.length >= NDJSON_CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/** One file, whole or one byte range (Parquet readers fetch the footer first), in bounded chunks. */
async function serveFile(request: FastifyRequest, reply: FastifyReply, store: ObjectStore, key: string, size: number): Promise<FastifyReply> {
  const range = byteRange(request.headers.range, size);
  if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${size}`).send();
  const [start, end] = range ?? [0, size];
  reply.header('accept-ranges', 'bytes').header('content-type', 'application/octet-stream').header('content-length', String(end - start));
  if (range !== undefined) reply.code(206).header('content-range', `bytes ${start}-${end - 1}/${size}`);
  if (request.method === 'HEAD') return reply.send();
  const first = await store.getRange(key, start, Math.min(end, start + FILE_CHUNK_BYTES));
  if (first === undefined) throw notFound('the file is gone from the table (vacuumed?): query the table again');
  async function* rest(): AsyncGenerator<Buffer> {
    yield first as Buffer;
    for (let at = start + FILE_CHUNK_BYTES; at < end; at += FILE_CHUNK_BYTES) {
      const chunk = await store.getRange(key, at, Math.min(end, at + FILE_CHUNK_BYTES));
      if (chunk === undefined) throw new Error(`${key} vanished while it was served`);
      yield chunk;
    }
  }
  return reply.send(Readable.from(rest()));
}

/** `Range: bytes=a-b | a- | -n` against the size; undefined for none (or several ranges: the whole file is a valid answer). */
export function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const suffix = Number(to);
    return suffix === 0 ? 'unsatisfiable' : [Math.max(0, size - suffix), size];
  }
  const start = Number(from);
  if (start >= size) return 'unsatisfiable';
  const end = to === '' ? size : Math.min(size, Number(to) + 1);
  return end <= start ? 'unsatisfiable' : [start, end];
}

function answerError(error: unknown, request: FastifyRequest, reply: FastifyReply, refused: Counter<'reason'>): FastifyReply {
  if (error instanceof SharingError) {
    refused.inc({ reason: reasonOf(error.statusCode) });
    if (error.statusCode === 401) void reply.header('www-authenticate', 'Bearer realm="echolake-delta-sharing"');
    return reply.code(error.statusCode).send({ errorCode: error.errorCode, message: error.message });
  }
  if (error instanceof ApiError) {
    return reply.code(error.statusCode).headers(error.headers).send({ errorCode: error.statusCode === 503 ? 'TEMPORARILY_UNAVAILABLE' : 'INVALID_REQUEST', message: error.message });
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    refused.inc({ reason: 'invalid' });
    return reply.code(400).send({ errorCode: 'INVALID_PARAMETER_VALUE', message: validationMessage(fastifyError.validationContext, fastifyError.validation) });
  }
  const status = fastifyError.statusCode;
  if (status === 413) {
    refused.inc({ reason: 'invalid' });
    return reply.code(413).send({ errorCode: 'MALFORMED_REQUEST', message: `the request body is larger than the ${QUERY_BODY_LIMIT / 1024} KiB a query may send: send fewer or shorter predicate hints` });
  }
  if (status !== undefined && status >= 400 && status < 500) {
    refused.inc({ reason: 'invalid' });
    return reply.code(status).send({ errorCode: 'MALFORMED_REQUEST', message: fastifyError.message ?? 'bad request' });
  }
  request.log.error({ err: error, method: request.method, url: request.url.split('?', 1)[0] }, 'sharing request failed');
  return reply.code(500).send({ errorCode: 'INTERNAL_ERROR', message: 'the server failed to answer; its log has the details' });
}

/** The first schema violation, naming the field (`querystring maxResults must be >= 1`), its length bounded. */
function validationMessage(context: string | undefined, validation: FastifyError['validation']): string {
  const first = validation?.[0];
  const field = (first?.instancePath ?? '').split('/').filter((part) => part !== '').join('.').slice(0, 100);
  return `${context ?? 'request'}${field === '' ? '' : ` ${field}`} ${first?.message ?? 'is invalid'}`;
}

function reasonOf(status: number): string {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  return 'invalid';
}
