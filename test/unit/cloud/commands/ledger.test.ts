import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandLedger } from '../../../../cloud/commands/ledger.js';
import type { CommandRecord } from '../../../../cloud/commands/request.js';
import type { CommandResult } from '../../../../shared/contract/commands.js';

const record = (commandId: string): CommandRecord => ({
  commandId,
  author: 'ops',
  reason: 'r',
  createdAt: '2026-07-01T00:00:00.000Z',
  notBefore: '2026-07-01T00:00:00.000Z',
  expiresAt: '2026-07-01T01:00:00.000Z',
  set: { targetTemperature: 27 },
  restore: true,
  targets: [{ siteId: 'a', devices: 'all' }, { siteId: 'b', devices: 'all' }],
});
const result = (state: CommandResult['state'], siteId: string, deviceId?: string, reason?: string): CommandResult => ({
  v: 1,
  commandId: 'c1',
  siteId,
  state,
  at: '2026-07-01T00:00:01.000Z',
  ...(deviceId !== undefined && { deviceId }),
  ...(reason !== undefined && { reason }),
});

test('each target\'s state follows its results; copies and late ones change nothing', () => {
  const ledger = new CommandLedger(10);
  ledger.apply({ type: 'created', at: 'x', command: record('c1') });
  ledger.apply({ type: 'published', at: '2026-07-01T00:00:00.500Z', commandId: 'c1', siteId: 'a' });
  const arriving: Array<[CommandResult, boolean]> = [
    [result('received', 'a'), false],
    [result('applied', 'a', 'd1'), false],
    [result('verified', 'a', 'd1'), false],
    [result('applied', 'a', 'd1'), true], // a copy, late
    [result('refused', 'b', undefined, 'remote control is off'), false],
  ];
  for (const [r, known] of arriving) {
    assert.equal(ledger.knows(r), known, `${r.siteId}/${r.deviceId ?? '-'}/${r.state}`);
    ledger.apply({ type: 'result', at: 'x', result: r });
  }
  const view = ledger.view('c1');
  assert.deepEqual(view?.targets.map((t) => [t.siteId, t.state, t.reason, t.devices.map((d) => d.state)]), [
    ['a', 'delivered', undefined, ['verified']],
    ['b', 'refused', 'remote control is off', []],
  ]);
  ledger.apply({ type: 'result', at: 'x', result: result('restored', 'a', 'd1') });
  assert.equal(ledger.view('c1')?.targets[0]?.devices[0]?.state, 'restored');
  assert.equal(ledger.targets('c1', 'z'), false, 'a site the command never went to');
  assert.equal(ledger.knows(result('verified', 'z', 'd9')), true, 'so its results change nothing');
});

test('only the newest commands are kept in memory', () => {
  const ledger = new CommandLedger(2);
  for (const id of ['c1', 'c2', 'c3']) ledger.apply({ type: 'created', at: 'x', command: record(id) });
  assert.equal(ledger.view('c1'), undefined);
  assert.ok(ledger.view('c3'));
});

test('a site or listed device still waiting when the window closes shows expired, with the reason', () => {
  const ledger = new CommandLedger(10);
  const command: CommandRecord = { ...record('c1'), targets: [{ siteId: 'a', devices: 'all' }, { siteId: 'b', devices: ['d1', 'd2'] }, { siteId: 'c', devices: ['d3'] }] };
  ledger.apply({ type: 'created', at: 'x', command });
  for (const siteId of ['a', 'b', 'c']) ledger.apply({ type: 'published', at: '2026-07-01T00:00:00.500Z', commandId: 'c1', siteId });
  ledger.apply({ type: 'result', at: 'x', result: result('received', 'b') });
  ledger.apply({ type: 'result', at: 'x', result: result('verified', 'b', 'd1') });
  const shape = (now: number) =>
    ledger.view('c1', now)?.targets.map((t) => [t.siteId, t.state, t.reason, t.devices.map((d) => [d.deviceId, d.state, d.reason, d.at])]);
  const expiresAt = Date.parse(command.expiresAt);
  assert.deepEqual(shape(expiresAt - 1), [
    ['a', 'pending', undefined, []],
    ['b', 'delivered', undefined, [['d1', 'verified', undefined, '2026-07-01T00:00:01.000Z'], ['d2', 'pending', undefined, command.createdAt]]],
    ['c', 'pending', undefined, [['d3', 'pending', undefined, command.createdAt]]],
  ]);
  assert.deepEqual(shape(expiresAt), [
    ['a', 'expired', 'not delivered before expiresAt', []],
    ['b', 'delivered', undefined, [['d1', 'verified', undefined, '2026-07-01T00:00:01.000Z'], ['d2', 'expired', 'no result from the site before expiresAt', command.expiresAt]]],
    ['c', 'expired', 'not delivered before expiresAt', [['d3', 'expired', 'not delivered before expiresAt', command.expiresAt]]],
  ]);
  // The site comes back after the window and refuses the command as expired: its own words win.
  ledger.apply({ type: 'result', at: 'x', result: result('expired', 'a', undefined, 'expired on arrival') });
  assert.deepEqual(shape(expiresAt + 60_000)?.[0], ['a', 'expired', 'expired on arrival', []]);
});
