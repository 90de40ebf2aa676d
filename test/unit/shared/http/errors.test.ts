import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AIRCON_ID, FakeSources, TOKEN, apiServer, capturingLogger, type ErrorShape } from '../../../support/api-fakes.js';

const server = apiServer();
after(() => server.stop());

function assertErrorShape(body: unknown, code: string): void {
  assert.deepEqual(Object.keys(body as object), ['error']);
  const { error } = body as ErrorShape;
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message']);
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
}

test('unknown routes and methods are a 404 in the error shape', async () => {
  for (const [method, url] of [['GET', '/nope'], ['GET', '/elapi/v2/devices'], ['DELETE', '/elapi/v1/devices'], ['PUT', '/api/v1/status']] as const) {
    const response = await server.app.inject({ method, url });
    assert.equal(response.statusCode, 404, `${method} ${url}`);
    assertErrorShape(response.json(), 'not_found');
    assert.match(response.json<ErrorShape>().error.message, new RegExp(`no route ${method} `));
  }
});

test('a URL that does not decode, or a parameter too long, is a 4xx in the error shape', async () => {
  const badEncoding = await server.app.inject({ url: '/elapi/v1/devices/%E0%A4%A' });
  assert.equal(badEncoding.statusCode, 400);
  assertErrorShape(badEncoding.json(), 'invalid_request');
  const tooLong = await server.app.inject({ url: `/elapi/v1/devices/${'a'.repeat(300)}` });
  assert.ok(tooLong.statusCode >= 400 && tooLong.statusCode < 500, String(tooLong.statusCode));
  assertErrorShape(tooLong.json(), 'invalid_request');
});

test('bodies the API cannot read are the client\'s fault: 400, 413, 415', async () => {
  const headers = { authorization: `Bearer ${TOKEN}` };
  const post = (payload: string, contentType: string) =>
    server.app.inject({ method: 'POST', url: '/api/v1/discovery', headers: { ...headers, 'content-type': contentType }, payload });
  const badJson = await post('{"oops', 'application/json');
  assert.equal(badJson.statusCode, 400);
  assertErrorShape(badJson.json(), 'invalid_request');
  const huge = await post(JSON.stringify({ pad: 'x'.repeat(100_000) }), 'application/json');
  assert.equal(huge.statusCode, 413);
  assertErrorShape(huge.json(), 'payload_too_large');
  const xml = await post('<search/>', 'application/xml');
  assert.equal(xml.statusCode, 415);
  assertErrorShape(xml.json(), 'unsupported_media_type');
});

test('a fault of the gateway itself is a 500 with a generic message; the details go to the log', async () => {
  const { logger, lines } = capturingLogger();
  const sources = new FakeSources();
  const failingHistory = { readings: () => { throw new Error('SQLITE_CORRUPT: database disk image is malformed'); } };
  const broken = apiServer({}, { ...sources, history: failingHistory }, logger);
  const response = await broken.app.inject({ url: `/api/v1/devices/${AIRCON_ID}/readings` });
  assert.equal(response.statusCode, 500);
  assertErrorShape(response.json(), 'internal_error');
  assert.doesNotMatch(response.body, /SQLITE/);
  assert.ok(lines.some((line) => line.level === 50 && JSON.stringify(line).includes('SQLITE_CORRUPT')), 'logged at error level');
  await broken.stop();
});

test('no input, however odd, makes the API answer 500', async () => {
  const odd = ['', '%00', '..', '.', '%2e%2e', '%FF', '%25', 'a'.repeat(129), '"', '\'', '%0A', '%E2%80%AE', 'null', '__proto__', 'constructor'];
  const urls = odd.flatMap((piece) => [
    `/elapi/v1/devices/${piece}`,
    `/elapi/v1/devices/${AIRCON_ID}/properties/${piece}`,
    `/api/v1/devices/${piece}/readings`,
    `/api/v1/devices/${AIRCON_ID}/readings?limit=${piece}`,
    `/api/v1/devices/${AIRCON_ID}/readings?since=${piece}`,
    `/api/v1/devices/${AIRCON_ID}/readings?${piece}=1`,
    `/${piece}`,
  ]);
  for (const url of urls) {
    const response = await server.app.inject({ url });
    assert.ok(response.statusCode < 500, `${url} → ${response.statusCode} ${response.body}`);
    if (response.statusCode >= 400) assert.ok('error' in response.json<object>(), url);
  }
});
