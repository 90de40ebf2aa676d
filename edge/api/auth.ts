/**
 * Routes that change anything (start a discovery now; later, set a property) need the bearer token
 * from the configuration. Reading stays open to the LAN: installers look without credentials.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { ApiError } from '../../shared/http/errors.js';

/** Shorter tokens can be guessed over a LAN in reasonable time. */
const MIN_TOKEN_LENGTH = 16;

const REALM = 'echolake-edge';

/** The OpenAPI security scheme the guarded routes name. */
export const BEARER_SCHEME = 'bearerToken';
export const bearerSecurity = [{ [BEARER_SCHEME]: [] }] as const;

export type OnRequestGuard = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

/**
 * An onRequest hook that lets a request through only with `Authorization: Bearer <token>`. It runs
 * before the body is read, so an unauthenticated client cannot make the gateway parse anything.
 * Without a configured token the guarded routes are switched off (403), never open.
 */
export function bearerTokenGuard(token: string | undefined): OnRequestGuard {
  if (token === undefined) {
    return (_request, _reply, done) => done(notConfigured());
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new Error(`api.token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  const expected = digest(token);
  return (request, _reply, done) => {
    const presented = bearerTokenOf(request.headers.authorization);
    if (presented === undefined) {
      request.log.info({ ip: request.ip, url: request.url }, 'refused: no bearer token');
      done(new ApiError(401, 'unauthorized', 'this route needs Authorization: Bearer <api.token>', challenge()));
      return;
    }
    // Comparing fixed-length digests keeps the time taken independent of where the tokens differ and of their lengths.
    if (!timingSafeEqual(digest(presented), expected)) {
      request.log.warn({ ip: request.ip, url: request.url }, 'refused: wrong bearer token');
      done(new ApiError(401, 'unauthorized', 'the bearer token is not this gateway\'s api.token', challenge('invalid_token')));
      return;
    }
    done();
  };
}

function bearerTokenOf(header: string | undefined): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** RFC 6750: a 401 tells the client which scheme to use, and why a presented token failed. */
function challenge(error?: 'invalid_token'): Record<string, string> {
  const detail = error === undefined ? '' : `, error="${error}"`;
  return { 'www-authenticate': `Bearer realm="${REALM}"${detail}` };
}

function notConfigured(): ApiError {
  return new ApiError(403, 'forbidden', 'changes through the API are switched off: configure api.token on the gateway to allow them');
}
