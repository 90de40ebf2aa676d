import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { newOperatorToken, operatorAuth } from '../../../../cloud/http/auth.js';
import { createCloudApp, registerBaseRoutes, type ReadinessProbe } from '../../../../cloud/http/server.js';
import { silentLogger } from '../../../../shared/log.js';

const config = { enabled: true, host: '127.0.0.1', port: 0, operators: [], tls: {}, behindTlsProxy: false, maxConcurrentRequests: 2 };

function app(probes: Record<string, ReadinessProbe>) {
  const instance = createCloudApp(config, '1.2.3', silentLogger());
  registerBaseRoutes(instance, new Map(Object.entries(probes)), new Registry());
  return instance;
}

test('readiness names each check, 503 while one fails', async () => {
  let kafka = false;
  const api = app({ kafka: () => kafka, ingest: () => true });
  const down = await api.inject({ url: '/readyz' });
  assert.equal(down.statusCode, 503);
  assert.deepEqual(down.json(), { status: 'not ready', checks: { kafka: false, ingest: true } });
  kafka = true;
  assert.equal((await api.inject({ url: '/readyz' })).statusCode, 200);
  assert.equal((await api.inject({ url: '/healthz' })).statusCode, 200);
});

test('errors have one shape and the OpenAPI document lists the routes', async () => {
  const api = app({});
  const missing = await api.inject({ url: '/nope' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json<{ error: { code: string } }>().error.code, 'not_found');
  const document = (await api.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown>; info: { version: string } }>();
  assert.equal(document.info.version, '1.2.3');
  assert.ok('/readyz' in document.paths && '/metrics' in document.paths);
});

test('operator routes want a known operator token', async () => {
  const { token, entry } = newOperatorToken('ops');
  const api = createCloudApp(config, '1', silentLogger());
  api.get('/secret', { preHandler: operatorAuth([entry]) }, (request) => ({ operator: request.operator }));
  assert.equal((await api.inject({ url: '/secret' })).statusCode, 401);
  const wrong = await api.inject({ url: '/secret', headers: { authorization: 'Bearer nope' } });
  assert.equal(wrong.statusCode, 401);
  assert.match(String(wrong.headers['www-authenticate']), /invalid_token/);
  assert.deepEqual((await api.inject({ url: '/secret', headers: { authorization: `Bearer ${token}` } })).json(), { operator: 'ops' });
});

test('requests over the concurrency limit are answered 503 with Retry-After before their body is read', async () => {
  const api = createCloudApp(config, '1', silentLogger());
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  api.get('/slow', async () => {
    await held;
    return { ok: true };
  });
  const first = api.inject({ url: '/slow' });
  const second = api.inject({ url: '/slow' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const third = await api.inject({ url: '/slow' });
  assert.equal(third.statusCode, 503);
  assert.equal(third.headers['retry-after'], '1');
  release();
  assert.equal((await first).statusCode, 200);
  assert.equal((await second).statusCode, 200);
  assert.equal((await api.inject({ url: '/slow' })).statusCode, 200, 'slots come back');
});
