import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LogStore } from '../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../cloud/lake/delta/snapshot.js';
import { LocalObjectStore } from '../../cloud/lake/storage/local-store.js';
import { python } from '../support/python.js';

// The log reader against reference tables other implementations wrote (../shared/fixtures/delta,
// outside the repo; run by .ci/delta-fixtures.sh, not by `npm test`). Valid tables must replay to
// what delta-rs sees (version, live files, partition columns); broken ones must be refused by name.
const root = resolve(process.env.ECHOLAKE_DELTA_FIXTURES ?? join(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared', 'fixtures', 'delta'));
if (!existsSync(root)) throw new Error(`the Delta reference tables are not at ${root}: set ECHOLAKE_DELTA_FIXTURES to the folder holding delta-rs/ and delta-golden/`);

/** Tables a reader must refuse, and the words the refusal must contain. */
const REFUSED: Record<string, RegExp> = {
  'delta-golden/versions-not-contiguous': /not contiguous: commit \d+ is missing/,
  'delta-golden/deltalog-invalid-protocol-version': /needs reader version \d+/,
};

/**
 * Tables delta-rs itself cannot open (its kernel wants a schemaString this synthetic table lacks):
 * there the oracle is a plain replay of every JSON commit, which ignores checkpoint and hint alike.
 */
const JSON_ORACLE = new Set(['delta-golden/corrupted-last-checkpoint']);

function replayJson(path: string): { version: number; paths: string[]; partitionColumns: string[] } {
  const files = new Set<string>();
  let partitionColumns: string[] = [];
  const commits = readdirSync(join(path, '_delta_log')).filter((name) => /^\d{20}\.json$/.test(name)).sort();
  for (const name of commits) {
    for (const line of readFileSync(join(path, '_delta_log', name), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const action = JSON.parse(line) as { add?: { path: string }; remove?: { path: string }; metaData?: { partitionColumns?: string[] } };
      if (action.add) files.add(decodeURIComponent(action.add.path));
      if (action.remove) files.delete(decodeURIComponent(action.remove.path));
      if (action.metaData) partitionColumns = action.metaData.partitionColumns ?? [];
    }
  }
  return { version: commits.length - 1, paths: [...files].sort(), partitionColumns };
}

const tables = ['delta-rs', 'delta-golden'].flatMap((group) => readdirSync(join(root, group)).map((name) => `${group}/${name}`)).sort();

/** A private copy: the fixtures are read-only and must stay untouched. */
function copyOf(table: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'echolake-fixture-'));
  cpSync(join(root, table), dir, { recursive: true });
  return dir;
}

const load = (path: string) => Snapshot.load(new LogStore(new LocalObjectStore(path)));

for (const table of tables) {
  const refusal = REFUSED[table];
  if (refusal !== undefined) {
    void test(`${table} is refused`, async () => {
      await assert.rejects(load(copyOf(table)), refusal);
    });
    continue;
  }
  void test(`${table} replays as delta-rs reads it`, async () => {
    const path = copyOf(table);
    const expected = JSON_ORACLE.has(table) ? replayJson(path) : await python<{ version: number; paths: string[]; partitionColumns: string[] }>(
      `
import json, sys
from urllib.parse import unquote
from deltalake import DeltaTable
table = DeltaTable(sys.argv[1])
paths = table.get_add_actions(flatten=True).column("path").to_pylist()
print(json.dumps({"version": table.version(), "paths": sorted(unquote(p) for p in paths), "partitionColumns": table.metadata().partition_columns}))
`,
      path,
    );
    const snapshot = await load(path);
    assert.ok(snapshot, 'a table');
    assert.equal(snapshot.version, expected.version);
    assert.deepEqual([...snapshot.files.keys()].map((p) => decodeURIComponent(p)).sort(), expected.paths);
    assert.deepEqual(snapshot.metaData?.partitionColumns, expected.partitionColumns);
  });
}
