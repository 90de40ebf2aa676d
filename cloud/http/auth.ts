/**
 * Operator routes (sites, alerts, silences, later commands) need `Authorization: Bearer <token>`
 * of an operator listed in `api.operators` (kept as SHA-256: the tokens are 32 random bytes, so a
 * fast hash is enough, and every request can afford it).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../shared/http/errors.js';

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

/** A preHandler that lets only operators through; a 401 says how to authenticate. */
export function operatorAuth(operators: readonly Operator[]) {
  const known = operators.map((operator) => ({ name: operator.name, digest: Buffer.from(operator.tokenSha256, 'hex') }));
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = bearerTokenOf(request.headers.authorization);
    if (token === undefined) throw unauthorized('this route needs Authorization: Bearer <operator token>');
    const digest = createHash('sha256').update(token).digest();
    const operator = known.find((candidate) => timingSafeEqual(candidate.digest, digest));
    if (operator === undefined) {
      request.log.warn({ ip: request.ip, url: request.url }, 'refused: unknown operator token');
      throw unauthorized('the bearer token is no operator\'s (api.operators)', 'invalid_token');
    }
    request.operator = operator.name;
  };
}

function unauthorized(message: string, error?: 'invalid_token'): ApiError {
  const detail = error === undefined ? '' : `, error="${error}"`;
  return new ApiError(401, 'unauthorized', message, { 'www-authenticate': `Bearer realm="echolake-cloud"${detail}` });
}
