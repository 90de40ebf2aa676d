import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Alert } from '../../../../../cloud/alerts/alert.js';
import { DeltaTable } from '../../../../../cloud/lake/delta/table.js';
import { appendOncePerOffset, type OffsetEntry } from '../../../../../cloud/lake/operations/append-by-offset.js';
import { LocalObjectStore } from '../../../../../cloud/lake/storage/local-store.js';
import { ALERTS_TABLE, alertBatches, type AlertRow } from '../../../../../cloud/lake/tables/alerts.js';
import { silentLogger } from '../../../../../shared/log.js';

const open = (root: string) => DeltaTable.open(new LocalObjectStore(root), ALERTS_TABLE, silentLogger(), 'test');
const txnOf = (partition: number) => `app-alerts-${partition}`;
const info = { operation: 'STREAMING UPDATE' };
const alert = (id: number, state: Alert['state']): Alert => ({
  v: 1,
  id: id.toString(16).padStart(32, '0'),
  state,
  rule: 'fault',
  ruleType: 'instant',
  severity: 'critical',
  summary: 'fault',
  scope: 'device',
  siteId: 's1',
  deviceId: 'd1',
  site: { name: 'S1', timeZone: 'UTC', location: null },
  cause: 'condition',
  startsAt: '2026-01-01T00:00:00.000Z',
  endsAt: state === 'firing' ? null : '2026-01-01T00:01:00.000Z',
  windowStart: null,
  windowEnd: null,
  value: true,
  threshold: true,
});
const entry = (partition: number, offset: number, row?: Alert): OffsetEntry<AlertRow> => {
  const position = { partition, offset: String(offset) };
  return { position, row: row === undefined ? undefined : { alert: row, position } };
};
const rowsIn = (table: DeltaTable) => [...table.snapshot.files.values()].reduce((sum, add) => sum + (JSON.parse(add.stats ?? '{}') as { numRecords: number }).numRecords, 0);

test('rows and the offset txn of each partition go in one commit; offsets at or below a txn are never added again', async () => {
  const table = await open(mkdtempSync(join(tmpdir(), 'echolake-alerts-table-')));
  const first = [entry(0, 3, alert(1, 'firing')), entry(0, 5, alert(2, 'firing')), entry(1, 2, alert(1, 'resolved'))];
  assert.equal(await appendOncePerOffset(table, first, txnOf, alertBatches, info), 3);
  assert.deepEqual([table.snapshot.txns.get(txnOf(0)), table.snapshot.txns.get(txnOf(1))], [5, 2]);
  // A replay after a restart re-reads offset 5 with a new one: only the new one is added.
  assert.equal(await appendOncePerOffset(table, [entry(0, 5, alert(2, 'firing')), entry(0, 6, alert(2, 'resolved'))], txnOf, alertBatches, info), 1);
  assert.equal(await appendOncePerOffset(table, first, txnOf, alertBatches, info), 0, 'all already in the table');
  assert.equal(table.snapshot.version, 2, 'nothing committed for a batch the table had');
  assert.equal(rowsIn(table), 4);
});

test('an entry without a row (an unreadable record, kept elsewhere) only moves its partition’s offset on', async () => {
  const table = await open(mkdtempSync(join(tmpdir(), 'echolake-alerts-table-')));
  assert.equal(await appendOncePerOffset(table, [entry(0, 8)], txnOf, alertBatches, info), 0);
  assert.equal(table.snapshot.txns.get(txnOf(0)), 8);
  assert.equal(table.snapshot.files.size, 0);
});

test('two writers racing with the same records: one commits them, the other replans, adds nothing and leaves no file behind', async () => {
  const root = mkdtempSync(join(tmpdir(), 'echolake-alerts-table-'));
  const [a, b] = [await open(root), await open(root)];
  const records = [entry(0, 1, alert(1, 'firing')), entry(0, 2, alert(1, 'resolved'))];
  assert.equal(await appendOncePerOffset(a, records, txnOf, alertBatches, info), 2);
  assert.equal(await appendOncePerOffset(b, records, txnOf, alertBatches, info), 0);
  assert.equal(rowsIn(b), 2);
  assert.equal(readdirSync(join(root, 'date=2026-01-01')).length, 1, 'the loser’s file was deleted');
});
