import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CheckpointSchedule } from '../../../../cloud/lake/checkpoints.js';
import { DeltaTable } from '../../../../cloud/lake/delta/table.js';
import { LocalObjectStore } from '../../../../cloud/lake/storage/local-store.js';
import { DEAD_LETTERS_TABLE } from '../../../../cloud/lake/tables/dead-letters.js';
import { silentLogger } from '../../../../shared/log.js';

const checkpointFile = (root: string, version: number) => join(root, '_delta_log', `${String(version).padStart(20, '0')}.checkpoint.parquet`);
const commitTxn = (table: DeltaTable, version: number) => table.commit([{ txn: { appId: 'app', version, lastUpdated: Date.now() } }], { operation: 'WRITE' });

test('a checkpoint once the interval has passed since the last one, per table, and _last_checkpoint points at it', async () => {
  const [rootA, rootB] = [mkdtempSync(join(tmpdir(), 'echolake-ckpt-')), mkdtempSync(join(tmpdir(), 'echolake-ckpt-'))];
  const a = await DeltaTable.open(new LocalObjectStore(rootA), DEAD_LETTERS_TABLE, silentLogger(), 'test');
  const b = await DeltaTable.open(new LocalObjectStore(rootB), DEAD_LETTERS_TABLE, silentLogger(), 'test');
  const schedule = new CheckpointSchedule(3, silentLogger());
  for (let i = 1; i <= 4; i += 1) {
    await commitTxn(a, i);
    await schedule.afterCommit(a);
  }
  await commitTxn(b, 1);
  await schedule.afterCommit(b);
  assert.ok(existsSync(checkpointFile(rootA, 3)), 'at version 3');
  assert.equal(existsSync(checkpointFile(rootA, 4)), false, 'not again one version later');
  assert.equal((JSON.parse(readFileSync(join(rootA, '_delta_log', '_last_checkpoint'), 'utf8')) as { version: number }).version, 3);
  assert.equal(existsSync(join(rootB, '_delta_log', '_last_checkpoint')), false, 'the other table is counted on its own');
  // Another writer's commits step over 6: the next checkpoint comes at the first version 3 past the last.
  await commitTxn(a, 5);
  await commitTxn(a, 6);
  await commitTxn(a, 7);
  await schedule.afterCommit(a);
  assert.ok(existsSync(checkpointFile(rootA, 7)));
});
