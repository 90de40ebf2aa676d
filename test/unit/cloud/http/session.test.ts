import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastify from 'fastify';
import {
  MAX_SESSIONS,
  OperatorSessions,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  endSession,
  registerSessionCookies,
  sessionOperator,
  startSession,
} from '../../../../cloud/http/session.js';

const ops = { name: 'ops', tokenSha256: '0'.repeat(64) };

function app(startedAt: number, operators = [ops]) {
  const api = fastify();
  registerSessionCookies(api);
  api.get('/start', (_request, reply) => {
    startSession(reply, ops, true, startedAt);
    return reply.send({});
  });
  api.get('/who', (request) => ({ operator: sessionOperator(request, operators) ?? null }));
  api.post('/logout', (request, reply) => {
    endSession(request, reply, true);
    return reply.send({});
  });
  return api;
}

async function cookieFrom(api: ReturnType<typeof app>) {
  const started = await api.inject({ url: '/start' });
  const cookie = started.cookies.find((c) => c.name === SESSION_COOKIE);
  assert.ok(cookie);
  return cookie;
}

async function who(api: ReturnType<typeof app>, value: string) {
  return (await api.inject({ url: '/who', cookies: { [SESSION_COOKIE]: value } })).json<{ operator: string | null }>().operator;
}

test('a session names its operator until it ends; over HTTPS the cookie is Secure', async () => {
  const api = app(Date.now());
  const cookie = await cookieFrom(api);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.maxAge, SESSION_TTL_MS / 1000);
  assert.equal(await who(api, cookie.value), 'ops');
});

test('signing out ends the session on the server: a copy of the cookie names nobody after it', async () => {
  const api = app(Date.now());
  const cookie = await cookieFrom(api);
  await api.inject({ method: 'POST', url: '/logout', cookies: { [SESSION_COOKIE]: cookie.value } });
  assert.equal(await who(api, cookie.value), null);
});

test('a rotated or removed operator token ends its sessions', async () => {
  const rotated = { name: 'ops', tokenSha256: '1'.repeat(64) };
  const api = app(Date.now(), [rotated]);
  assert.equal(await who(api, (await cookieFrom(api)).value), null, 'same name, new token');
  const removed = app(Date.now(), []);
  assert.equal(await who(removed, (await cookieFrom(removed)).value), null);
});

test('a session past its lifetime, another process\'s, forged or oversized names nobody', async () => {
  const old = app(Date.now() - SESSION_TTL_MS - 1000);
  assert.equal(await who(old, (await cookieFrom(old)).value), null, 'expired');
  const api = app(Date.now());
  const elsewhere = await cookieFrom(app(Date.now()));
  assert.equal(await who(api, elsewhere.value), null, 'signed by another process');
  assert.equal(await who(api, 'x'.repeat(600)), null);
  assert.equal(await who(api, 'made-up.session'), null);
});

test('the session table is bounded: beyond its size the oldest sessions go', () => {
  const sessions = new OperatorSessions();
  const now = Date.now();
  const first = sessions.open(ops, now);
  for (let i = 1; i < MAX_SESSIONS + 5; i += 1) sessions.open(ops, now);
  assert.equal(sessions.size, MAX_SESSIONS);
  assert.equal(sessions.operatorOf(first, [ops], now), undefined, 'the oldest went');
});
