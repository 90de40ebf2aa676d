import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CommandRequest, campaignCommand, planCommand } from '../../../../cloud/commands/request.js';
import type { Site } from '../../../../cloud/sites/registry.js';

const site = (id: string, latitude?: number, longitude?: number, enabled = true): Site => ({
  id,
  name: id,
  enabled,
  timeZone: 'UTC',
  thresholds: {},
  secrets: [],
  ...(latitude !== undefined && longitude !== undefined && { location: { latitude, longitude } }),
});
const SITES = [site('tokyo', 35.68, 139.77), site('osaka', 34.69, 135.5), site('honolulu', 21.3, -157.86), site('closed', 35, 139, false), site('nowhere')];
const NOW = Date.parse('2026-07-01T00:00:00.000Z');
const LIMITS = { maxWindowMinutes: 120, maxSitesPerCommand: 2 };
const request = (overrides: Partial<CommandRequest> = {}): CommandRequest => ({ target: { siteId: 'tokyo' }, set: { targetTemperature: 27 }, expiresAt: '2026-07-01T01:00:00.000Z', reason: 'r', restore: false, ...overrides });

test('a plan: one message per site under one id, author and window carried', () => {
  const plan = planCommand(request({ target: { siteIds: ['tokyo', 'osaka'] }, setpointOffset: 1, restore: true }), SITES, 'ops', NOW, LIMITS);
  assert.ok('record' in plan);
  assert.deepEqual(plan.messages.map((m) => [m.siteId, m.commandId, m.author, m.notBefore, m.devices, m.setpointOffset, m.restore]), [
    ['tokyo', plan.record.commandId, 'ops', '2026-07-01T00:00:00.000Z', 'all', 1, true],
    ['osaka', plan.record.commandId, 'ops', '2026-07-01T00:00:00.000Z', 'all', 1, true],
  ]);
  const one = planCommand(request({ target: { siteId: 'tokyo', deviceId: 'd1' } }), SITES, 'ops', NOW, LIMITS);
  assert.ok('record' in one);
  assert.deepEqual(one.record.targets, [{ siteId: 'tokyo', devices: ['d1'] }]);
});

test('a location box takes the enabled sites inside it, across the antimeridian too', () => {
  const kanto = planCommand(request({ target: { box: { south: 35, west: 138, north: 36, east: 140 } } }), SITES, 'ops', NOW, LIMITS);
  assert.deepEqual('record' in kanto && kanto.record.targets.map((t) => t.siteId), ['tokyo'], 'not the disabled site in the box');
  const pacific = planCommand(request({ target: { box: { south: 0, west: 170, north: 40, east: -150 } } }), SITES, 'ops', NOW, LIMITS);
  assert.deepEqual('record' in pacific && pacific.record.targets.map((t) => t.siteId), ['honolulu']);
});

test('problems are named', () => {
  const problem = (overrides: Partial<CommandRequest>): string => {
    const plan = planCommand(request(overrides), SITES, 'ops', NOW, LIMITS);
    return 'problem' in plan ? plan.problem : 'none';
  };
  assert.match(problem({ set: {} }), /sets nothing/);
  assert.match(problem({ expiresAt: '2026-06-30T00:00:00.000Z' }), /has passed/);
  assert.match(problem({ notBefore: '2026-07-01T02:00:00.000Z' }), /not after notBefore/);
  assert.match(problem({ expiresAt: '2026-07-01T03:00:00.000Z' }), /180 minutes is longer than the 120/);
  assert.match(problem({ target: { siteIds: ['tokyo', 'closed'] } }), /no enabled site closed/);
  assert.match(problem({ target: { siteIds: ['tokyo', 'osaka', 'honolulu'] } }), /3 sites, more than the 2/);
  assert.match(problem({ target: { box: { south: -10, west: 0, north: -5, east: 10 } } }), /no enabled site/);
});

test('a demand-response campaign is a command with the offset, a restore at its end, and its name in the reason', () => {
  const command = campaignCommand({ name: 'JEPX tight 14-15', target: { siteIds: ['tokyo'] }, setpointOffset: 2, endsAt: '2026-07-01T01:00:00.000Z', reason: 'reserve margin 3 %' });
  assert.deepEqual(command, { target: { siteIds: ['tokyo'] }, setpointOffset: 2, expiresAt: '2026-07-01T01:00:00.000Z', restore: true, reason: 'demand response "JEPX tight 14-15": reserve margin 3 %' });
  const plan = planCommand(command, SITES, 'ops', NOW, LIMITS);
  assert.ok('record' in plan && plan.messages[0]?.restore === true && plan.messages[0].setpointOffset === 2);
});
