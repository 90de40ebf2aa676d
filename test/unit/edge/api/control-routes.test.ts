import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AIRCON_ID, FakeSources, TOKEN, apiServer, type ErrorShape } from '../../../support/api-fakes.js';

async function put(server: ReturnType<typeof apiServer>, name: string, body: unknown, authorization: string | null = `Bearer ${TOKEN}`, id = AIRCON_ID) {
  const response = await server.app.inject({
    method: 'PUT',
    url: `/elapi/v1/devices/${id}/properties/${name}`,
    headers: { 'content-type': 'application/json', ...(authorization !== null && { authorization }) },
    payload: JSON.stringify(body),
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

test('PUT sets one property by its spec name and answers the value read back', async () => {
  const sources = new FakeSources();
  const server = apiServer({}, sources);
  assert.deepEqual(await put(server, 'targetTemperature', { targetTemperature: 26 }), { status: 200, body: { targetTemperature: 26 } });
  assert.deepEqual(await put(server, 'operationStatus', { operationStatus: false }), { status: 200, body: { operationStatus: false } });
  assert.deepEqual(sources.sets, [
    { deviceId: AIRCON_ID, values: { targetTemperature: 26 } },
    { deviceId: AIRCON_ID, values: { operationStatus: false } },
  ]);
  await server.stop();
});

test('without the token nothing is set; bad values, unknown devices and refusals are named', async () => {
  const sources = new FakeSources();
  const server = apiServer({}, sources);
  assert.equal((await put(server, 'targetTemperature', { targetTemperature: 26 }, null)).status, 401);
  const cases: Array<[string, unknown, number, RegExp, string?]> = [
    ['targetTemperature', { targetTemperature: 99 }, 400, /targetTemperature: must be <= 50/],
    ['roomTemperature', { roomTemperature: 20 }, 400, /settable: operationStatus/],
    ['targetTemperature', { operationStatus: true }, 400, /the body must be \{ "targetTemperature": value \}/],
    ['targetTemperature', { targetTemperature: 26 }, 404, /no device 'nobody-013001'/, 'nobody-013001'],
  ];
  for (const [name, body, status, message, id] of cases) {
    const answer = await put(server, name, body, `Bearer ${TOKEN}`, id);
    assert.equal(answer.status, status, JSON.stringify(body));
    assert.match((answer.body as unknown as ErrorShape).error.message, message);
  }
  assert.deepEqual(sources.sets, [], 'nothing reached the device');
  sources.setOutcome = { ok: false, reason: 'REJECTED', message: 'device refused targetTemperature' };
  assert.equal((await put(server, 'targetTemperature', { targetTemperature: 26 })).status, 409);
  sources.setOutcome = { ok: false, reason: 'NO_ANSWER', message: 'timed out' };
  assert.equal((await put(server, 'targetTemperature', { targetTemperature: 26 })).status, 503);
  await server.stop();
});

test('without a configured token, local control is switched off', async () => {
  const sources = new FakeSources();
  const server = apiServer({ token: undefined }, sources);
  assert.equal((await put(server, 'targetTemperature', { targetTemperature: 26 })).status, 403);
  assert.deepEqual(sources.sets, []);
  await server.stop();
});
