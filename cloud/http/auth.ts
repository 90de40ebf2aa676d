/**
 * Operator routes (sites, alerts, silences, later commands) need `Authorization: Bearer <token>`
 * of an operator listed in `api.operators` (kept as SHA-256: the tokens are 32 random bytes, so a
 * fast hash is enough, and every request can afford it), or the fleet dashboard's session cookie.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../shared/http/errors.js';
import { CSRF_HEADER, sessionOperator } from './session.js';

export interface Operator {
  name: string;
  tokenSha256: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The operator a request was authenticated as, for audits. */
    operator?: string;
  }
}

export const OPERATOR_SCHEME = 'operatorToken';
export const operatorSecurity = [{ [OPERATOR_SCHEME]: [] }];

/** The bearer token of an `Authorization` header, or undefined. */
export function bearerTokenOf(header: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** A new operator token and the line for `api.operators`. */
export function newOperatorToken(name: string): { token: string; entry: Operator } {
  const token = randomBytes(32).toString('base64url');
  return { token, entry: { name, tokenSha256: sha256Hex(token) } };
}

/** The operator whose token this is, compared in constant time against every configured digest. */
export function operatorOfToken(operators: readonly Operator[], token: string): string | undefined {
  const digest = createHash('sha256').update(token).digest();
  return operators.find((candidate) => timingSafeEqual(Buffer.from(candidate.tokenSha256, 'hex'), digest))?.name;
}

/**
 * A preHandler that lets only operators through: by bearer token, or by the dashboard's session
 * cookie (cloud/http/session.ts) when the request has no Authorization header. A cookie alone does
 * not change anything: such a request must also carry the CSRF header, which a cross-site form
 * cannot set. A 401 says how to authenticate.
 */
export function operatorAuth(operators: readonly Operator[]) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerTokenOf(request.headers.authorization);
    if (token === undefined) {
      const fromSession = request.headers.authorization === undefined && request.cookies !== undefined ? sessionOperator(request, operators) : undefined;
      if (fromSession === undefined) throw unauthorized('this route needs Authorization: Bearer <operator token> (or the dashboard\'s login)');
      if (request.method !== 'GET' && request.method !== 'HEAD' && request.headers[CSRF_HEADER] === undefined) {
        throw new ApiError(403, 'forbidden', `a change through the dashboard's session needs the ${CSRF_HEADER} header`);
      }
      request.operator = fromSession;
      return;
    }
    const operator = operatorOfToken(operators, token);
    if (operator === undefined) {
      request.log.warn({ ip: request.ip, url: request.url }, 'refused: unknown operator token');
      throw unauthorized('the bearer token is no operator\'s (api.operators)', 'invalid_token');
    }
    request.operator = operator;
  };
}

function unauthorized(message: string, error?: 'invalid_token'): ApiError {
  const detail = error === undefined ? '' : `, error="${error}"`;
  return new ApiError(401, 'unauthorized', message, { 'www-authenticate': `Bearer realm="echolake-cloud"${detail}` });
}
