import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Command, SETTABLE_NAMES, settablePropertiesSchema, encodeCommand, encodeCommandResult, parseCommand, parseCommandResult } from '../../../../shared/contract/commands.js';

const command = (overrides: Partial<Command> = {}): Command => ({
  v: 1,
  commandId: 'c-1',
  siteId: 'osaka-1',
  author: 'ops',
  reason: 'demand response',
  issuedAt: '2026-07-01T00:00:00.000Z',
  notBefore: '2026-07-01T00:00:00.000Z',
  expiresAt: '2026-07-01T01:00:00.000Z',
  devices: 'all',
  set: { targetTemperature: 27 },
  restore: true,
  ...overrides,
});

test('a command round-trips through its encoding and parser', () => {
  const sent = command({ devices: ['dev-1'], set: { operationStatus: false, operationMode: 'cooling', airFlowLevel: 'auto' }, setpointOffset: 2 });
  assert.deepEqual(parseCommand(encodeCommand(sent)), { ok: true, value: sent });
});

test('commands outside the contract are refused, naming the problem', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ ...command(), set: { targetTemperature: 99 } }, /targetTemperature must be <= 50/],
    [{ ...command(), set: { roomTemperature: 20 } }, /must NOT have additional properties/],
    [{ ...command(), set: {} }, /sets nothing/],
    [{ ...command(), expiresAt: '2026-07-01T00:00:00.000Z' }, /not after notBefore/],
    [{ ...command(), commandId: '../x' }, /commandId must match/],
    [{ ...command(), devices: [] }, /devices/],
  ];
  for (const [value, error] of cases) {
    const parsed = parseCommand(JSON.stringify(value));
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.error, error);
  }
  const big = parseCommand(JSON.stringify({ ...command(), reason: 'x'.repeat(20_000) }));
  assert.match(big.ok ? '' : big.error, /bytes, more than/);
  assert.match((parseCommand('{') as { error: string }).error, /not JSON/);
});

test('results parse with and without a device', () => {
  const site = { v: 1 as const, commandId: 'c-1', siteId: 'osaka-1', state: 'refused' as const, reason: 'remote control is off', at: '2026-07-01T00:00:00.000Z' };
  assert.deepEqual(parseCommandResult(encodeCommandResult(site)), { ok: true, value: site });
  const device = { ...site, deviceId: 'd', state: 'verified' as const, values: { targetTemperature: 27 }, previous: { targetTemperature: 25 } };
  assert.deepEqual(parseCommandResult(encodeCommandResult(device)), { ok: true, value: device });
  assert.equal(parseCommandResult(JSON.stringify({ ...site, state: 'pending' })).ok, false, 'pending is the cloud\'s, not a result');
});

test('the settable names list the schema\'s properties', () => {
  assert.deepEqual([...SETTABLE_NAMES].sort(), Object.keys(settablePropertiesSchema.properties).sort());
});
