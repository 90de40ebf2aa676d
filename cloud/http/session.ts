/**
 * Operator sessions for the fleet dashboard: the login page takes the operator token once and sets
 * an HttpOnly, SameSite=Strict cookie naming the operator and its expiry, signed by @fastify/cookie
 * (HMAC); the API's bearer tokens stay as they are. The signing key is random per process, so
 * nothing is stored and nothing is to configure: a restart, or a request reaching another API
 * replica, asks for the token again (put replicas behind a sticky load balancer for the dashboard).
 */
import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Operator } from './auth.js';

export const SESSION_COOKIE = 'echolake_session';
/** A working day: long enough for a shift, short enough that a forgotten browser does not stay in. */
export const SESSION_TTL_MS = 12 * 3600_000;
/** Header a cookie-authenticated request that changes anything must carry: a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-echolake-request';

/** Cookie parsing and signing on the app, with a fresh key for this process. */
export function registerSessionCookies(app: FastifyInstance): void {
  void app.register(cookie, { secret: randomBytes(32).toString('base64url'), hook: 'onRequest' });
}

export function startSession(reply: FastifyReply, operator: string, secure: boolean, now = Date.now()): void {
  const expires = now + SESSION_TTL_MS;
  reply.setCookie(SESSION_COOKIE, `${Buffer.from(operator, 'utf8').toString('base64url')}.${expires}`, {
    signed: true,
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: '/',
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function endSession(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
}

/** The operator the request's session cookie names, if it is signed by us, unexpired, and the operator is still configured. */
export function sessionOperator(request: FastifyRequest, operators: readonly Operator[], now = Date.now()): string | undefined {
  const raw = request.cookies[SESSION_COOKIE];
  if (raw === undefined || raw.length > 512) return undefined;
  const unsigned = request.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) return undefined;
  const match = /^([A-Za-z0-9_-]+)\.(\d{1,15})$/.exec(unsigned.value);
  if (match === null || Number(match[2]) <= now) return undefined;
  const operator = Buffer.from(match[1] ?? '', 'base64url').toString('utf8');
  return operators.some((o) => o.name === operator) ? operator : undefined;
}
