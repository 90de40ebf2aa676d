/**
 * Operator sessions for the fleet dashboard: the login page takes the operator token once and sets
 * an HttpOnly, SameSite=Strict cookie holding a random session id, signed by @fastify/cookie
 * (HMAC); the API's bearer tokens stay as they are. The sessions live in this process: signing out
 * ends a session on the server (a copied cookie is worth nothing after it), and so does rotating
 * or removing the operator's token. A restart, or a request reaching another API replica, asks for
 * the token again (put replicas behind a sticky load balancer for the dashboard).
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
/** Open sessions kept at most; beyond it the oldest go (a login flood cannot grow the heap). */
export const MAX_SESSIONS = 10_000;

interface Session {
  operator: string;
  /** The token it signed in with: a rotated or removed token ends the session. */
  tokenSha256: string;
  expires: number;
}

/** The open sessions of this process, by id. */
export class OperatorSessions {
  private readonly sessions = new Map<string, Session>();

  open(operator: Operator, now: number): string {
    this.makeRoom(now);
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { operator: operator.name, tokenSha256: operator.tokenSha256, expires: now + SESSION_TTL_MS });
    return id;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** The operator of a live session whose token is still configured. */
  operatorOf(id: string, operators: readonly Operator[], now: number): string | undefined {
    const session = this.sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expires <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    const current = operators.some((o) => o.name === session.operator && o.tokenSha256 === session.tokenSha256);
    return current ? session.operator : undefined;
  }

  get size(): number {
    return this.sessions.size;
  }

  private makeRoom(now: number): void {
    if (this.sessions.size < MAX_SESSIONS) return;
    for (const [id, session] of this.sessions) if (session.expires <= now) this.sessions.delete(id);
    // Map order is opening order: the oldest sessions go first.
    for (const id of this.sessions.keys()) {
      if (this.sessions.size < MAX_SESSIONS) break;
      this.sessions.delete(id);
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    operatorSessions: OperatorSessions;
  }
}

/** Cookie parsing and signing on the app, with a fresh key and an empty session table for this process. */
export function registerSessionCookies(app: FastifyInstance): void {
  void app.register(cookie, { secret: randomBytes(32).toString('base64url'), hook: 'onRequest' });
  app.decorate('operatorSessions', new OperatorSessions());
}

export function startSession(reply: FastifyReply, operator: Operator, secure: boolean, now = Date.now()): void {
  const id = reply.server.operatorSessions.open(operator, now);
  reply.setCookie(SESSION_COOKIE, id, { signed: true, httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: SESSION_TTL_MS / 1000 });
}

export function endSession(request: FastifyRequest, reply: FastifyReply, secure: boolean): void {
  const id = sessionId(request);
  if (id !== undefined) request.server.operatorSessions.close(id);
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure, path: '/' });
}

/** The operator of the request's session, if its cookie is signed by us and the session is open, unexpired, and its token still configured. */
export function sessionOperator(request: FastifyRequest, operators: readonly Operator[], now = Date.now()): string | undefined {
  const id = sessionId(request);
  return id === undefined ? undefined : request.server.operatorSessions.operatorOf(id, operators, now);
}

function sessionId(request: FastifyRequest): string | undefined {
  const raw = request.cookies[SESSION_COOKIE];
  if (raw === undefined || raw.length > 512) return undefined;
  const unsigned = request.unsignCookie(raw);
  return unsigned.valid && unsigned.value !== null ? unsigned.value : undefined;
}
