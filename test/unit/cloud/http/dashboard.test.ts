import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { buildWeb } from '../../../../scripts/build-web.js';
import { newOperatorToken, operatorAuth } from '../../../../cloud/http/auth.js';
import { dashboardRoutes, languageOf } from '../../../../cloud/http/dashboard.js';
import { createCloudApp } from '../../../../cloud/http/server.js';
import { CSRF_HEADER, SESSION_COOKIE } from '../../../../cloud/http/session.js';
import { silentLogger } from '../../../../shared/log.js';

const config = { enabled: true, host: '127.0.0.1', port: 0, operators: [], tls: {}, behindTlsProxy: false, maxConcurrentRequests: 20 };
const { token, entry } = newOperatorToken('ops');

before(() => buildWeb());

function app() {
  const api = createCloudApp(config, '1', silentLogger());
  void api.register(dashboardRoutes, { operators: [entry], secure: false });
  api.get('/api/v1/data', { preHandler: operatorAuth([entry]) }, (request) => ({ operator: request.operator }));
  api.post('/api/v1/change', { preHandler: operatorAuth([entry]) }, (request) => ({ operator: request.operator }));
  return api;
}

async function login(api: ReturnType<typeof app>, given: string) {
  return api.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ token: given }).toString() });
}

test('without a session the page sends the browser to the login form and the data routes answer 401', async () => {
  const api = app();
  const page = await api.inject({ url: '/' });
  assert.equal(page.statusCode, 303);
  assert.equal(page.headers.location, 'login');
  const form = await api.inject({ url: '/login' });
  assert.equal(form.statusCode, 200);
  assert.match(form.body, /<form class="login" method="post" action="login">/);
  assert.equal((await api.inject({ url: '/api/v1/data' })).statusCode, 401);
  // Script and style hold no data: served to anyone (the login page uses the style).
  assert.equal((await api.inject({ url: '/app.css' })).statusCode, 200);
});

test('a wrong token is refused with the form again and no cookie', async () => {
  const refused = await login(app(), 'not-the-token');
  assert.equal(refused.statusCode, 401);
  assert.match(refused.body, /role="alert"/);
  assert.equal(refused.cookies.length, 0);
});

test('the operator token gives an HttpOnly, SameSite=Strict session that opens the page and the data routes', async () => {
  const api = app();
  const accepted = await login(api, token);
  assert.equal(accepted.statusCode, 303);
  const cookie = accepted.cookies.find((c) => c.name === SESSION_COOKIE);
  assert.ok(cookie);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(cookie.path, '/');
  assert.doesNotMatch(cookie.value, new RegExp(token), 'the token itself is not in the cookie');
  const cookies = { [SESSION_COOKIE]: cookie.value };
  const page = await api.inject({ url: '/', cookies });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  assert.deepEqual((await api.inject({ url: '/api/v1/data', cookies })).json(), { operator: 'ops' });
  // A change through the cookie alone is refused: a cross-site form could send it; with the header it goes.
  assert.equal((await api.inject({ method: 'POST', url: '/api/v1/change', cookies })).statusCode, 403);
  assert.equal((await api.inject({ method: 'POST', url: '/api/v1/change', cookies, headers: { [CSRF_HEADER]: '1' } })).statusCode, 200);
});

test('a tampered, foreign or ended session opens nothing', async () => {
  const api = app();
  const cookie = (await login(api, token)).cookies.find((c) => c.name === SESSION_COOKIE);
  assert.ok(cookie);
  const tampered = cookie.value.replace(/^[^.]+/, Buffer.from('admin').toString('base64url'));
  assert.equal((await api.inject({ url: '/api/v1/data', cookies: { [SESSION_COOKIE]: tampered } })).statusCode, 401);
  // Another process (a restart) signs with another key.
  assert.equal((await app().inject({ url: '/api/v1/data', cookies: { [SESSION_COOKIE]: cookie.value } })).statusCode, 401);
  const out = await api.inject({ method: 'POST', url: '/logout', cookies: { [SESSION_COOKIE]: cookie.value } });
  assert.equal(out.statusCode, 303);
  assert.equal(out.cookies.find((c) => c.name === SESSION_COOKIE)?.value, '');
});

test('the login page speaks the first of English and Japanese the browser asks for', () => {
  assert.equal(languageOf('ja-JP,ja;q=0.9,en;q=0.8'), 'ja');
  assert.equal(languageOf('en-US,ja;q=0.5'), 'en');
  assert.equal(languageOf('fr-FR,ja;q=0.5'), 'ja');
  assert.equal(languageOf(undefined), 'en');
});
