import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listensOnEveryInterface } from '../../../../edge/api/server.js';
import { AIRCON_ID, TOKEN, apiServer } from '../../../support/api-fakes.js';

interface OpenApiOperation {
  parameters?: { in: string; name: string; schema: unknown }[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
  security?: Record<string, string[]>[];
}

type OpenApiDocument = {
  openapi: string;
  info: { version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

test('over a real socket on loopback: reads, refuses without the token, and stops', async () => {
  const server = apiServer();
  await server.start();
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { status: 'ok' }]);

    const property = await fetch(`${server.url}/elapi/v1/devices/${AIRCON_ID}/properties/targetTemperature`);
    assert.match(property.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await property.json(), { targetTemperature: 26 });

    const refused = await fetch(`${server.url}/api/v1/discovery`, { method: 'POST' });
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="echolake-edge"');

    const allowed = await fetch(`${server.url}/api/v1/discovery`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(await allowed.json(), { nodesAnswered: 2 });
  } finally {
    await server.stop();
  }
  await assert.rejects(fetch(`${server.url}/healthz`), 'nothing listens after stop');
});

test('the wildcard addresses are recognised, so the log can warn about them', () => {
  for (const host of ['0.0.0.0', '::', '[::]', '::0', '0:0:0:0:0:0:0:0', '[0::0]']) assert.equal(listensOnEveryInterface(host), true, host);
  for (const host of ['192.168.1.10', '127.0.0.1', '::1', 'fe80::1%eth0', '0:0:0:0:0:0:0:1', 'gateway.local']) assert.equal(listensOnEveryInterface(host), false, host);
});

test('the OpenAPI document lists every route with its parameters and response schemas', async () => {
  const server = apiServer();
  const routes: string[] = [];
  server.app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) if (method !== 'HEAD') routes.push(`${method} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
  });
  const response = await server.app.inject({ url: '/openapi.json' });
  assert.equal(response.statusCode, 200);
  const document = response.json<OpenApiDocument>();

  assert.match(document.openapi, /^3\./);
  assert.equal(document.info.version, '0.1.0-test');
  const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
  assert.deepEqual(documented.sort(), routes.sort());
  assert.deepEqual(routes.sort(), [
    'GET /api/v1/devices',
    'GET /api/v1/devices/{id}/readings',
    'GET /api/v1/status',
    'GET /elapi/v1/devices',
    'GET /elapi/v1/devices/{id}',
    'GET /elapi/v1/devices/{id}/properties',
    'GET /elapi/v1/devices/{id}/properties/{name}',
    'GET /healthz',
    'GET /metrics',
    'GET /openapi.json',
    'GET /readyz',
    'POST /api/v1/discovery',
    'PUT /elapi/v1/devices/{id}/properties/{name}',
  ]);

  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const ok = operation.responses['200']?.content;
      assert.ok(ok !== undefined && Object.values(ok).every((media) => media.schema !== undefined), `${method} ${path} documents its 200`);
      for (const name of path.match(/\{(\w+)\}/g) ?? []) {
        const parameter = operation.parameters?.find((p) => p.in === 'path' && `{${p.name}}` === name);
        assert.ok(parameter?.schema !== undefined, `${method} ${path} documents ${name}`);
      }
    }
  }
  const readings = document.paths['/api/v1/devices/{id}/readings']?.get;
  assert.deepEqual(readings?.parameters?.filter((p) => p.in === 'query').map((p) => p.name).sort(), ['limit', 'since']);
  assert.ok(readings?.responses['400'] && readings.responses['404'], 'documents its errors');
  assert.deepEqual(document.paths['/api/v1/discovery']?.post?.security, [{ bearerToken: [] }]);
  assert.deepEqual(document.paths['/elapi/v1/devices/{id}/properties/{name}']?.put?.security, [{ bearerToken: [] }], 'local control needs the token');
  assert.ok(document.components.securitySchemes.bearerToken);
  assert.ok(document.components.schemas.ApiError);
  await server.stop();
});
