import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastify from 'fastify';
import { SESSION_COOKIE, SESSION_TTL_MS, registerSessionCookies, sessionOperator, startSession } from '../../../../cloud/http/session.js';

const operators = [{ name: 'ops', tokenSha256: '0'.repeat(64) }];

function app(startedAt: number) {
  const api = fastify();
  registerSessionCookies(api);
  api.get('/start', (_request, reply) => {
    startSession(reply, 'ops', true, startedAt);
    return reply.send({});
  });
  api.get('/who', (request) => ({ operator: sessionOperator(request, operators) ?? null }));
  return api;
}

async function cookieFrom(api: ReturnType<typeof app>) {
  const started = await api.inject({ url: '/start' });
  const cookie = started.cookies.find((c) => c.name === SESSION_COOKIE);
  assert.ok(cookie);
  return cookie;
}

test('a session names its operator until it ends; over HTTPS the cookie is Secure', async () => {
  const api = app(Date.now());
  const cookie = await cookieFrom(api);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.maxAge, SESSION_TTL_MS / 1000);
  assert.deepEqual((await api.inject({ url: '/who', cookies: { [SESSION_COOKIE]: cookie.value } })).json(), { operator: 'ops' });
});

test('a session past its lifetime, of an operator no longer configured, or oversized names nobody', async () => {
  const old = app(Date.now() - SESSION_TTL_MS - 1000);
  const expired = await cookieFrom(old);
  assert.deepEqual((await old.inject({ url: '/who', cookies: { [SESSION_COOKIE]: expired.value } })).json(), { operator: null });
  const api = app(Date.now());
  const value = (await cookieFrom(api)).value;
  const request = { cookies: { [SESSION_COOKIE]: value }, unsignCookie: api.unsignCookie.bind(api) };
  assert.equal(sessionOperator(request as never, []), undefined, 'the operator was removed from api.operators');
  assert.deepEqual((await api.inject({ url: '/who', cookies: { [SESSION_COOKIE]: 'x'.repeat(600) } })).json(), { operator: null });
});
