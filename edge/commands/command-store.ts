/**
 * The executor's memory in the edge database (tables of migrations 3 and 4): every command id
 * received, so none runs twice, even after a restart; the units it was resolved to when it started;
 * per device what a command set over what (what a restore needs); and the results not yet handed
 * to the broker.
 */
import type { Database } from '../buffer/sqlite.js';
import type { Command } from '../../shared/contract/commands.js';
import type { PropertyValue } from '../../shared/reading.js';

export type CommandState = 'scheduled' | 'executing' | 'restore-pending' | 'closed';

export interface DeviceChange {
  deviceId: string;
  state: string;
  previous: Record<string, PropertyValue>;
  applied: Record<string, PropertyValue>;
}

/** Results waiting for the link beyond this many drop the oldest (a site cut off for weeks). */
const MAX_PENDING_RESULTS = 10_000;
/**
 * A command id is remembered this long past its window: after that, a redelivered copy is refused
 * as expired anyway, so forgetting it can never make it run twice.
 */
const REMEMBER_AFTER_EXPIRY_MS = 7 * 24 * 3_600_000;

export class CommandStore {
  private readonly statements;

  constructor(private readonly db: Database) {
    this.statements = {
      claim: db.prepare<[string, string, string, string | null, number, number]>(
        'INSERT OR IGNORE INTO commands (id, payload, state, targets, expires_at, received_at) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setState: db.prepare<[string, string]>('UPDATE commands SET state = ? WHERE id = ?'),
      startExecuting: db.prepare<[string, string]>("UPDATE commands SET state = 'executing', targets = ? WHERE id = ?"),
      targets: db.prepare<[string], { targets: string | null }>('SELECT targets FROM commands WHERE id = ?'),
      inState: db.prepare<[string], { payload: string }>('SELECT payload FROM commands WHERE state = ? ORDER BY received_at'),
      saveDevice: db.prepare<[string, string, string, string, string]>(
        'INSERT OR REPLACE INTO command_devices (command_id, device_id, state, previous, applied) VALUES (?, ?, ?, ?, ?)',
      ),
      devices: db.prepare<[string], { device_id: string; state: string; previous: string | null; applied: string | null }>(
        'SELECT device_id, state, previous, applied FROM command_devices WHERE command_id = ? ORDER BY device_id',
      ),
      addResult: db.prepare<[string]>('INSERT INTO command_results (payload) VALUES (?)'),
      results: db.prepare<[number], { id: number; payload: string }>('SELECT id, payload FROM command_results ORDER BY id LIMIT ?'),
      resultCount: db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM command_results'),
      resultSent: db.prepare<[number]>('DELETE FROM command_results WHERE id = ?'),
      trimResults: db.prepare<[number]>('DELETE FROM command_results WHERE id <= (SELECT MAX(id) FROM command_results) - ?'),
      forgetDevices: db.prepare<[number]>("DELETE FROM command_devices WHERE command_id IN (SELECT id FROM commands WHERE state = 'closed' AND expires_at < ?)"),
      forget: db.prepare<[number]>("DELETE FROM commands WHERE state = 'closed' AND expires_at < ?"),
    };
  }

  /**
   * Records a command id as received; false when it was received before (then it must not run
   * again). One that starts at once comes with its units, in the same row: a crash cannot separate them.
   */
  claim(command: Command, state: CommandState, now: number, targets?: readonly string[]): boolean {
    const units = targets === undefined ? null : JSON.stringify(targets);
    return this.statements.claim.run(command.commandId, JSON.stringify(command), state, units, Date.parse(command.expiresAt), now).changes === 1;
  }

  setState(commandId: string, state: CommandState): void {
    this.statements.setState.run(state, commandId);
  }

  /** A scheduled command starts now, on these units. */
  startExecuting(commandId: string, targets: readonly string[]): void {
    this.statements.startExecuting.run(JSON.stringify(targets), commandId);
  }

  /** The units a command was resolved to when it started; undefined if it never started (or started under schema 3). */
  targets(commandId: string): string[] | undefined {
    const row = this.statements.targets.get(commandId);
    return row === undefined || row.targets === null ? undefined : (JSON.parse(row.targets) as string[]);
  }

  inState(state: CommandState): Command[] {
    return this.statements.inState.all(state).map((row) => JSON.parse(row.payload) as Command);
  }

  saveDevice(commandId: string, change: DeviceChange): void {
    this.statements.saveDevice.run(commandId, change.deviceId, change.state, JSON.stringify(change.previous), JSON.stringify(change.applied));
  }

  devices(commandId: string): DeviceChange[] {
    return this.statements.devices.all(commandId).map((row) => ({
      deviceId: row.device_id,
      state: row.state,
      previous: JSON.parse(row.previous ?? '{}') as Record<string, PropertyValue>,
      applied: JSON.parse(row.applied ?? '{}') as Record<string, PropertyValue>,
    }));
  }

  /** Keeps a result until the broker took it; returns its row id. */
  addResult(payload: string): number {
    const id = Number(this.statements.addResult.run(payload).lastInsertRowid);
    this.statements.trimResults.run(MAX_PENDING_RESULTS);
    return id;
  }

  pendingResults(limit: number): Array<{ id: number; payload: string }> {
    return this.statements.results.all(limit);
  }

  pendingResultCount(): number {
    return this.statements.resultCount.get()?.count ?? 0;
  }

  resultSent(id: number): void {
    this.statements.resultSent.run(id);
  }

  /** Forgets closed commands whose window ended long ago (a copy of one would be refused as expired). */
  prune(now: number): void {
    const before = now - REMEMBER_AFTER_EXPIRY_MS;
    this.db.transaction(() => {
      this.statements.forgetDevices.run(before);
      this.statements.forget.run(before);
    })();
  }
}
