import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { EventReading, Reading } from '../../../../shared/reading.js';
import { AIRCON_ID, FakeSources, QUIET_ID, airconHistory, apiServer, type ErrorShape } from '../../../support/api-fakes.js';

const sources = new FakeSources();
const server = apiServer({}, sources);
after(() => server.stop());

async function readings(query: string, id = AIRCON_ID): Promise<{ status: number; body: unknown }> {
  const response = await server.app.inject({ url: `/api/v1/devices/${id}/readings${query}` });
  return { status: response.statusCode, body: response.json() };
}

function lastQuery(): (typeof sources.historyQueries)[number] | undefined {
  return sources.historyQueries.at(-1);
}

test('without parameters: the newest 100 readings, oldest first, in the reading contract\'s shape', async () => {
  const { status, body } = await readings('');
  assert.equal(status, 200);
  assert.deepEqual(body, { deviceId: AIRCON_ID, readings: airconHistory });
  assert.deepEqual(lastQuery(), { deviceId: AIRCON_ID, query: { limit: 100 } });
});

test('limit bounds the count and since is handed to the history as an instant', async () => {
  const newest = await readings('?limit=3');
  assert.deepEqual((newest.body as { readings: Reading[] }).readings.map((r) => r.seq), [8, 9, 10]);

  const paged = await readings('?since=2026-11-23T05:04:00Z&limit=2');
  assert.equal(paged.status, 200);
  assert.deepEqual((paged.body as { readings: Reading[] }).readings.map((r) => r.seq), [5, 6]);
  assert.deepEqual(lastQuery(), { deviceId: AIRCON_ID, query: { since: new Date('2026-11-23T05:04:00Z'), limit: 2 } });

  const offset = await readings('?since=2026-11-23T14:04:00%2B09:00');
  assert.deepEqual((offset.body as { readings: Reading[] }).readings.map((r) => r.seq), [5, 6, 7, 8, 9, 10]);
});

test('a known device without readings in the history answers an empty list', async () => {
  assert.deepEqual(await readings('', QUIET_ID), { status: 200, body: { deviceId: QUIET_ID, readings: [] } });
  assert.deepEqual(await readings('?since=2030-01-01T00:00:00Z'), { status: 200, body: { deviceId: AIRCON_ID, readings: [] } });
});

test('device events come back in the contract\'s shape, their event whole', async () => {
  const moved: EventReading = {
    v: 1,
    siteId: 'site-a',
    seq: 11,
    epoch: '3f9a0c1d2e4b5a69',
    deviceId: QUIET_ID,
    eoj: '013001',
    address: '192.168.1.35',
    ts: '2026-11-23T05:11:00.000Z',
    kind: 'event',
    event: { type: 'moved', fromAddress: '192.168.1.21', toAddress: '192.168.1.35' },
  };
  sources.extraHistory.push(moved);
  try {
    assert.deepEqual(await readings('', QUIET_ID), { status: 200, body: { deviceId: QUIET_ID, readings: [moved] } });
  } finally {
    sources.extraHistory.length = 0;
  }
});

test('a device neither the registry nor the history knows is a 404', async () => {
  const { status, body } = await readings('', 'fe0000ffdeadbeef-013001');
  assert.equal(status, 404);
  assert.equal((body as ErrorShape).error.code, 'not_found');
});

test('bad parameters are a 400 naming the parameter, and the history is never asked', async () => {
  const cases: [string, RegExp][] = [
    ['?limit=abc', /query parameter 'limit' must be integer/],
    ['?limit=1.5', /query parameter 'limit' must be integer/],
    ['?limit=0', /query parameter 'limit' must be >= 1/],
    ['?limit=-5', /query parameter 'limit' must be >= 1/],
    ['?limit=100000', /query parameter 'limit' must be <= 1000/],
    ['?limit=', /query parameter 'limit'/],
    ['?since=notadate', /query parameter 'since' must match format "date-time"/],
    ['?since=2026-11-23', /query parameter 'since' must match format "date-time"/],
    ['?since=2026-02-30T00:00:00Z', /query parameter 'since'/],
    ['?since=2016-12-31T23:59:60Z', /query parameter 'since' is not an instant/],
    ['?limt=5', /unknown query parameter 'limt'/],
  ];
  const asked = sources.historyQueries.length;
  for (const [query, message] of cases) {
    const { status, body } = await readings(query);
    assert.equal(status, 400, `${query}: ${JSON.stringify(body)}`);
    assert.equal((body as ErrorShape).error.code, 'invalid_request');
    assert.match((body as ErrorShape).error.message, message, query);
  }
  const badId = await readings('', 'not%20an%20id');
  assert.equal(badId.status, 400);
  assert.equal(sources.historyQueries.length, asked);
});
