/**
 * The executor against a real SQLite file and a stand-in for the controller (units as plain
 * records, every Set journaled): at most once across redelivery and restarts, refusals with
 * reasons, read-back, and a restore that leaves alone what a person changed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { migrate } from '../../../../edge/buffer/migrations.js';
import { Database } from '../../../../edge/buffer/sqlite.js';
import { CommandStore } from '../../../../edge/commands/command-store.js';
import { CommandExecutor, type DevicePort } from '../../../../edge/commands/executor.js';
import type { CommandPolicy } from '../../../../edge/commands/policy.js';
import type { Command, CommandResult } from '../../../../shared/contract/commands.js';
import { silentLogger } from '../../../../shared/log.js';
import type { PropertyValue } from '../../../../shared/reading.js';
import { sleep } from '../../../support/wait.js';

const POLICY: CommandPolicy = { enabled: true, properties: ['operationStatus', 'operationMode', 'targetTemperature', 'airFlowLevel'], targetTemperatureMin: 18, targetTemperatureMax: 30, maxWindowMinutes: 60 };

/** Units as records; `offline` ones answer nothing. */
class FakeUnits implements DevicePort {
  readonly units = new Map<string, Record<string, PropertyValue>>();
  readonly sets: Array<{ deviceId: string; values: Record<string, PropertyValue> }> = [];
  readonly offline = new Set<string>();
  constructor(ids: string[]) {
    for (const id of ids) this.units.set(id, { operationStatus: true, operationMode: 'cooling', targetTemperature: 25, airFlowLevel: 'auto' });
  }
  airconIds(): string[] {
    return [...this.units.keys()];
  }
  async readProperties(deviceId: string, names: readonly string[]) {
    await Promise.resolve(); // an answer comes later, as over the network
    const unit = this.units.get(deviceId);
    if (unit === undefined) return { ok: false as const, reason: 'UNKNOWN_DEVICE' as const, message: `no device ${deviceId}` };
    if (this.offline.has(deviceId)) return { ok: false as const, reason: 'NO_ANSWER' as const, message: 'timed out' };
    return { ok: true as const, values: Object.fromEntries(names.map((n) => [n, unit[n] ?? null])) };
  }
  async setProperties(deviceId: string, values: Readonly<Record<string, PropertyValue>>) {
    await Promise.resolve();
    const unit = this.units.get(deviceId);
    if (unit === undefined || this.offline.has(deviceId)) return { ok: false as const, reason: 'NO_ANSWER' as const, message: 'timed out' };
    this.sets.push({ deviceId, values: { ...values } });
    Object.assign(unit, values);
    return { ok: true as const };
  }
}

function openStore(path: string): { db: Database; store: CommandStore } {
  const db = new Database(path);
  migrate(db, path);
  return { db, store: new CommandStore(db) };
}

function rig(path: string, units: FakeUnits, policy: CommandPolicy = POLICY) {
  const { db, store } = openStore(path);
  const results: CommandResult[] = [];
  const executor = new CommandExecutor({ siteId: 'site-a', policy, store, devices: units, report: (r) => results.push(r), log: silentLogger() });
  executor.start();
  return { db, store, executor, results };
}

const dbPath = (): string => join(mkdtempSync(join(tmpdir(), 'echolake-commands-')), 'edge.db');

function command(overrides: Partial<Command> = {}): Command {
  const now = Date.now();
  return {
    v: 1,
    commandId: `c-${Math.random().toString(36).slice(2, 10)}`,
    siteId: 'site-a',
    author: 'ops',
    reason: 'test',
    issuedAt: new Date(now).toISOString(),
    notBefore: new Date(now - 1000).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    devices: ['d1'],
    set: { targetTemperature: 27 },
    restore: false,
    ...overrides,
  };
}

async function until(what: string, probe: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !probe(); i++) await sleep(10);
  assert.ok(probe(), `timed out waiting for ${what}`);
}

const statesOf = (results: CommandResult[], deviceId?: string): string[] => results.filter((r) => r.deviceId === deviceId).map((r) => r.state);

test('a command sets the unit once, reads it back, and a copy — even after a restart — sets nothing', async () => {
  const path = dbPath();
  const units = new FakeUnits(['d1', 'd2']);
  const first = rig(path, units);
  const sent = command();
  first.executor.offer(JSON.stringify(sent));
  first.executor.offer(JSON.stringify(sent));
  await until('verified', () => statesOf(first.results, 'd1').includes('verified'));
  assert.deepEqual(units.sets, [{ deviceId: 'd1', values: { targetTemperature: 27 } }]);
  assert.deepEqual(statesOf(first.results), ['received']);
  assert.deepEqual(statesOf(first.results, 'd1'), ['applied', 'verified']);
  const verified = first.results.find((r) => r.state === 'verified');
  assert.deepEqual(verified?.previous, { targetTemperature: 25 });
  assert.deepEqual(verified?.values, { targetTemperature: 27 });
  assert.equal(first.executor.counters.duplicates, 1);
  await first.executor.stop();
  first.db.close();

  const second = rig(path, units);
  second.executor.offer(Buffer.from(JSON.stringify(sent)));
  await sleep(50);
  assert.equal(units.sets.length, 1, 'not again after a restart');
  assert.deepEqual(second.results, [], 'nothing to report for a copy');
  await second.executor.stop();
  second.db.close();
});

test('expired, policy and malformed commands are refused with the reason and set nothing', async () => {
  const units = new FakeUnits(['d1']);
  const { executor, results, db } = rig(dbPath(), units);
  const cases: Array<[Command, string, RegExp]> = [
    [command({ notBefore: new Date(Date.now() - 120_000).toISOString(), expiresAt: new Date(Date.now() - 60_000).toISOString() }), 'expired', /window ended/],
    [command({ set: { targetTemperature: 35 } }), 'refused', /targetTemperature 35 is outside this site's 18–30/],
    [command({ expiresAt: new Date(Date.now() + 3 * 3_600_000).toISOString() }), 'refused', /longer than this site's 60/],
  ];
  for (const [sent, state, reason] of cases) {
    executor.offer(JSON.stringify(sent));
    const result = results.find((r) => r.commandId === sent.commandId && r.state === state);
    assert.ok(result, `${state} for ${sent.commandId}`);
    assert.match(result.reason ?? '', reason);
  }
  const malformed = { ...command(), set: { targetTemperature: 'hot' } };
  executor.offer(JSON.stringify(malformed));
  assert.match(results.find((r) => r.commandId === malformed.commandId)?.reason ?? '', /not a valid command: \/set\/targetTemperature must be integer/);
  executor.offer('{"not json');
  executor.offer(JSON.stringify(command({ siteId: 'site-b' })));
  assert.equal(executor.counters.invalid, 3);
  await sleep(20);
  assert.deepEqual(units.sets, []);
  await executor.stop();
  db.close();

  const off = rig(dbPath(), units, { ...POLICY, enabled: false });
  const sent = command();
  off.executor.offer(JSON.stringify(sent));
  assert.match(off.results.find((r) => r.state === 'refused')?.reason ?? '', /remote control is off/);
  const narrow = rig(dbPath(), units, { ...POLICY, properties: ['targetTemperature'] });
  narrow.executor.offer(JSON.stringify(command({ set: { operationStatus: false } })));
  assert.match(narrow.results.find((r) => r.state === 'refused')?.reason ?? '', /does not allow remote setting of operationStatus/);
  await sleep(20);
  assert.deepEqual(units.sets, []);
  for (const r of [off, narrow]) {
    await r.executor.stop();
    r.db.close();
  }
});

test('an offset moves each unit from its own setpoint, within the limits; an offline unit is reported', async () => {
  const units = new FakeUnits(['d1', 'd2', 'd3']);
  (units.units.get('d2') as Record<string, PropertyValue>).targetTemperature = 29;
  units.offline.add('d3');
  const { executor, results, db } = rig(dbPath(), units);
  executor.offer(JSON.stringify(command({ devices: 'all', set: {}, setpointOffset: 2 })));
  await until('three outcomes', () => ['d1', 'd2', 'd3'].every((d) => statesOf(results, d).some((s) => s !== 'applied')));
  assert.deepEqual(statesOf(results, 'd1'), ['applied', 'verified']);
  assert.deepEqual(statesOf(results, 'd2'), ['refused']);
  assert.match(results.find((r) => r.deviceId === 'd2')?.reason ?? '', /targetTemperature 31 is outside/);
  assert.deepEqual(statesOf(results, 'd3'), ['offline']);
  assert.deepEqual(units.sets, [{ deviceId: 'd1', values: { targetTemperature: 27 } }]);
  await executor.stop();
  db.close();
});

test('at the window\'s end what the command set comes back, except where a person changed it — also across a restart', async () => {
  const path = dbPath();
  const units = new FakeUnits(['d1', 'd2']);
  const first = rig(path, units);
  const sent = command({ devices: 'all', set: { targetTemperature: 28, airFlowLevel: 3 }, restore: true, expiresAt: new Date(Date.now() + 600).toISOString() });
  first.executor.offer(JSON.stringify(sent));
  await until('both verified', () => ['d1', 'd2'].every((d) => statesOf(first.results, d).includes('verified')));
  await first.executor.stop();
  first.db.close();
  // A person turns d2 to 22 °C during the window; the fan level they leave as the command set it.
  (units.units.get('d2') as Record<string, PropertyValue>).targetTemperature = 22;

  const second = rig(path, units);
  await until('both restored or skipped', () => second.results.length === 2);
  assert.deepEqual(units.units.get('d1'), { operationStatus: true, operationMode: 'cooling', targetTemperature: 25, airFlowLevel: 'auto' });
  assert.deepEqual(units.units.get('d2'), { operationStatus: true, operationMode: 'cooling', targetTemperature: 22, airFlowLevel: 'auto' }, 'the person\'s setpoint stays');
  const d2 = second.results.find((r) => r.deviceId === 'd2');
  assert.equal(d2?.state, 'restored');
  assert.match(d2?.reason ?? '', /left as changed at the site: targetTemperature is 22, not the 28 the command set/);
  assert.equal(second.results.find((r) => r.deviceId === 'd1')?.state, 'restored');
  await second.executor.stop();
  second.db.close();
  const third = rig(path, units);
  await sleep(50);
  assert.deepEqual(third.results, [], 'restored once only');
  await third.executor.stop();
  third.db.close();
});

test('after a crash mid-command, every unit it was resolved to and had not finished is reported, though none is discovered yet', async () => {
  const path = dbPath();
  const units = new FakeUnits(['d1', 'd2']);
  // d2 never answers the read before its Set: the crash comes between d1's outcome and d2's.
  const read = units.readProperties.bind(units);
  units.readProperties = async (deviceId, names) => (deviceId === 'd2' ? new Promise<never>(() => undefined) : read(deviceId, names));
  const first = rig(path, units);
  const sent = command({ devices: 'all' });
  first.executor.offer(JSON.stringify(sent));
  await until('d1 verified', () => statesOf(first.results, 'd1').includes('verified'));
  first.db.close(); // the crash: no stop, nothing more reaches the file

  // The restart, before discovery: the controller knows no unit yet.
  const undiscovered = new FakeUnits([]);
  const second = rig(path, undiscovered);
  assert.deepEqual(second.results.map((r) => [r.deviceId, r.state]), [['d2', 'failed']], 'd2 reported; d1 finished before the crash');
  assert.match(second.results[0]?.reason ?? '', /restarted while it carried out this command; not tried again/);
  await sleep(20);
  assert.deepEqual(units.sets, [{ deviceId: 'd1', values: { targetTemperature: 27 } }], 'd1 set once, d2 never');
  assert.deepEqual(undiscovered.sets, [], 'nothing tried again after the restart');
  await second.executor.stop();
  second.db.close();
});
