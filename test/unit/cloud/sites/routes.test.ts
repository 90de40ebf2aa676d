import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastify from 'fastify';
import { Registry } from 'prom-client';
import { newOperatorToken, operatorAuth } from '../../../../cloud/http/auth.js';
import { StaticSiteRegistry } from '../../../../cloud/sites/registry.js';
import { siteRoutes } from '../../../../cloud/sites/routes.js';
import { SiteStatusBoard } from '../../../../cloud/sites/status-board.js';
import { installErrorHandling } from '../../../../shared/http/errors.js';
import type { AnyReading } from '../../../../shared/reading.js';
import { testSite } from '../../../support/cloud-sites.js';
import { aircon } from '../../../support/observations.js';

const { token, entry } = newOperatorToken('ops');
const auth = { authorization: `Bearer ${token}` };

async function app() {
  const sites = new StaticSiteRegistry([await testSite('a'), await testSite('b')]);
  const status = new SiteStatusBoard(sites, new Registry());
  const api = fastify();
  installErrorHandling(api);
  void api.register(siteRoutes, { sites, status, operatorAuth: operatorAuth([entry]) });
  return { api, status };
}

const batch = (siteId: string): AnyReading[] => {
  const { deviceId, eoj, address, ts } = aircon(1);
  return [
    { v: 1, siteId, seq: 1, ...aircon(0) },
    { v: 1, siteId, seq: 2, ...aircon(1) },
    { v: 1, siteId, seq: 3, deviceId, eoj, address, ts, kind: 'event', event: { type: 'offline' } },
  ];
};

test('each site says its devices online of total and its readings since start', async () => {
  const { api, status } = await app();
  status.batchInKafka('a', batch('a'));
  status.batchInKafka('unknown', batch('unknown'));
  const body = (await api.inject({ url: '/api/v1/sites', headers: auth })).json<{ sites: Array<{ id: string; status: { readings: number; devices: unknown } }> }>();
  const byId = new Map(body.sites.map((s) => [s.id, s.status]));
  assert.deepEqual(byId.get('a')?.devices, { online: 1, total: 2, capped: false });
  assert.equal(byId.get('a')?.readings, 3);
  assert.deepEqual(byId.get('b')?.devices, { online: 0, total: 0, capped: false });
  assert.equal(byId.size, 2, 'a site outside the registry never shows');
});

test('a site\'s devices with their latest values, its device events; 404 for a site not in the registry; operators only', async () => {
  const { api, status } = await app();
  status.batchInKafka('a', batch('a'));
  const answer = await api.inject({ url: '/api/v1/sites/a/devices', headers: auth });
  assert.equal(answer.statusCode, 200);
  const { devices } = answer.json<{ devices: Array<{ deviceId: string; online: boolean; properties: Record<string, unknown> }> }>();
  assert.deepEqual(devices.map((d) => [d.deviceId, d.online, d.properties.roomTemperature]), [
    [aircon(0).deviceId, true, 28],
    [aircon(1).deviceId, false, 27],
  ]);
  assert.equal((await api.inject({ url: '/api/v1/sites/nope/devices', headers: auth })).statusCode, 404);
  const events = (await api.inject({ url: '/api/v1/sites/a/events', headers: auth })).json<{ events: unknown[] }>();
  assert.deepEqual(events.events, [{ deviceId: aircon(1).deviceId, ts: aircon(1).ts, type: 'offline' }]);
  assert.equal((await api.inject({ url: '/api/v1/sites/nope/events', headers: auth })).statusCode, 404);
  assert.equal((await api.inject({ url: '/api/v1/sites/a/events' })).statusCode, 401);
  assert.equal((await api.inject({ url: '/api/v1/sites/a/devices' })).statusCode, 401);
});
