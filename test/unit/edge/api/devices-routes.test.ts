import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { AIRCON_ID, LIGHT_ID, QUIET_ID, apiServer, type ErrorShape } from '../../../support/api-fakes.js';

const server = apiServer();
after(() => server.stop());

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const response = await server.app.inject({ url });
  return { status: response.statusCode, body: response.json() };
}

function assertError(result: { status: number; body: unknown }, status: number, code: string, mentions: RegExp): void {
  assert.equal(result.status, status, JSON.stringify(result.body));
  const { error } = result.body as ErrorShape;
  assert.deepEqual(Object.keys(result.body as object), ['error']);
  assert.equal(error.code, code);
  assert.match(error.message, mentions);
}

/** How the device list, and the device itself before its values, describe the online aircon. */
const AIRCON_SUMMARY = {
  id: AIRCON_ID,
  deviceType: 'homeAirConditioner',
  eoj: '013001',
  protocol: { type: 'ECHONET_Lite', version: 'Rel.R' },
  manufacturer: { code: '0x00000b' },
  address: '127.0.0.2',
  availability: 'online',
  lastSeenAt: '2026-11-23T05:00:10.000Z',
};

test('GET /elapi/v1/devices lists every device in the guideline\'s shape, with address and availability', async () => {
  const { status, body } = await get('/elapi/v1/devices');
  assert.equal(status, 200);
  assert.deepEqual(body, {
    devices: [
      AIRCON_SUMMARY,
      {
        id: QUIET_ID,
        deviceType: 'homeAirConditioner',
        eoj: '013001',
        protocol: { type: 'ECHONET_Lite' },
        manufacturer: null,
        address: '127.0.0.9',
        availability: 'unreachable',
        lastSeenAt: '2026-11-23T04:00:00.000Z',
      },
      {
        id: LIGHT_ID,
        deviceType: '0x0290',
        eoj: '029001',
        protocol: { type: 'ECHONET_Lite' },
        manufacturer: { code: '0x000005' },
        address: '192.168.1.40',
        availability: 'offline',
        lastSeenAt: '2026-11-22T23:00:00.000Z',
      },
    ],
  });
});

test('GET /elapi/v1/devices/{id} describes the device with its latest values and raw EDTs', async () => {
  const { status, body } = await get(`/elapi/v1/devices/${AIRCON_ID}`);
  assert.equal(status, 200);
  assert.deepEqual(body, {
    ...AIRCON_SUMMARY,
    latest: {
      properties: { operationStatus: true, targetTemperature: 26, roomTemperature: 28, humidity: null },
      raw: { '80': '30', '82': '00005200', b3: '1a', bb: '1c', ba: 'fd' },
      updatedAt: '2026-11-23T05:00:10.000Z',
    },
  });
});

test('a device whose values have not arrived yet says latest: null and has no properties', async () => {
  const description = await get(`/elapi/v1/devices/${QUIET_ID}`);
  assert.equal(description.status, 200);
  assert.equal((description.body as { latest: unknown }).latest, null);
  assert.deepEqual(await get(`/elapi/v1/devices/${QUIET_ID}/properties`), { status: 200, body: {} });
  assertError(await get(`/elapi/v1/devices/${QUIET_ID}/properties/roomTemperature`), 404, 'not_found', /no property 'roomTemperature'/);
});

test('GET …/properties answers { name: value } for everything the device reported', async () => {
  assert.deepEqual(await get(`/elapi/v1/devices/${AIRCON_ID}/properties`), {
    status: 200,
    body: { operationStatus: true, targetTemperature: 26, roomTemperature: 28, humidity: null },
  });
});

test('GET …/properties/{name} answers one property; "no valid value" is null, not missing', async () => {
  assert.deepEqual(await get(`/elapi/v1/devices/${AIRCON_ID}/properties/roomTemperature`), { status: 200, body: { roomTemperature: 28 } });
  assert.deepEqual(await get(`/elapi/v1/devices/${AIRCON_ID}/properties/operationStatus`), { status: 200, body: { operationStatus: true } });
  assert.deepEqual(await get(`/elapi/v1/devices/${AIRCON_ID}/properties/humidity`), { status: 200, body: { humidity: null } });
});

test('a property the device does not implement is a 404 naming it', async () => {
  assertError(await get(`/elapi/v1/devices/${AIRCON_ID}/properties/outdoorTemperature`), 404, 'not_found', /no property 'outdoorTemperature'/);
  // Inherited object members are not properties either.
  assertError(await get(`/elapi/v1/devices/${AIRCON_ID}/properties/constructor`), 404, 'not_found', /no property 'constructor'/);
});

test('an unknown device is a 404 on every device route', async () => {
  for (const suffix of ['', '/properties', '/properties/roomTemperature']) {
    assertError(await get(`/elapi/v1/devices/fe0000ffdeadbeef-013001${suffix}`), 404, 'not_found', /no device 'fe0000ffdeadbeef-013001'/);
  }
});

test('ids and property names outside their alphabet are a 400 naming the parameter', async () => {
  for (const id of ['a%20b', 'x%3Ay', '%3Cscript%3E', 'fe00%2F013001']) {
    assertError(await get(`/elapi/v1/devices/${id}`), 400, 'invalid_request', /path parameter 'id' must match pattern/);
  }
  assertError(await get(`/elapi/v1/devices/${AIRCON_ID}/properties/room-temperature`), 400, 'invalid_request', /path parameter 'name'/);
  assertError(await get(`/elapi/v1/devices/${AIRCON_ID}/properties/1st`), 400, 'invalid_request', /path parameter 'name'/);
});

test('a trailing slash finds the same route', async () => {
  assert.equal((await get('/elapi/v1/devices/')).status, 200);
});
