import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AddAction } from '../../cloud/lake/delta/actions.js';
import { LogStore } from '../../cloud/lake/delta/log-store.js';
import { Snapshot } from '../../cloud/lake/delta/snapshot.js';
import { LocalObjectStore } from '../../cloud/lake/storage/local-store.js';
import { python } from '../support/python.js';

// The log reader against reference tables other implementations wrote (../shared/fixtures/delta,
// outside the repo; run by .ci/delta-fixtures.sh, not by `npm test`). Valid tables must replay to
// what delta-rs sees (version, live files, partition columns, and per file its partition values and
// record count); broken ones must be refused by name.
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

/** What the reader must agree on for one live file: its partition values (typed, see canonical) and its record count. */
interface FileFacts {
  partitionValues: Record<string, unknown>;
  numRecords: number | null;
}

interface Expected {
  version: number;
  paths: string[];
  partitionColumns: string[];
  files: Record<string, FileFacts>;
}

/**
 * A partition value as delta-rs hands it over typed, in one comparable form: numbers and booleans
 * as JSON, dates as YYYY-MM-DD, timestamps as microseconds since 1970 UTC (a value without a zone
 * is UTC, as the protocol says), decimals and strings as text, an empty string as null.
 */
function canonical(value: string | null | undefined, type: string): unknown {
  if (value === null || value === undefined || value === '') return null;
  if (['integer', 'long', 'short', 'byte', 'float', 'double'].includes(type)) return Number(value);
  if (type === 'boolean') return value === 'true';
  if (type === 'timestamp' || type === 'timestamp_ntz') {
    const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
    if (match === null) throw new Error(`timestamp partition value ${value} has no form this test knows`);
    const seconds = Date.parse(`${match[1]}T${match[2]}${match[4] ?? 'Z'}`);
    return seconds * 1000 + Number((match[3] ?? '').padEnd(6, '0'));
  }
  return value;
}

const numRecords = (stats: string | null | undefined): number | null => (stats ? ((JSON.parse(stats) as { numRecords?: number }).numRecords ?? null) : null);

function factsOf(add: AddAction, types: Map<string, string>): FileFacts {
  const partitionValues = Object.fromEntries(Object.entries(add.partitionValues).map(([column, value]) => [column, canonical(value, types.get(column) ?? 'string')]));
  return { partitionValues, numRecords: numRecords(add.stats) };
}

/** Column name → Delta type, from a metaData schemaString (partition columns are always primitive). */
function columnTypes(schemaString: string | undefined): Map<string, string> {
  const fields = schemaString ? (JSON.parse(schemaString) as { fields: Array<{ name: string; type: unknown }> }).fields : [];
  return new Map(fields.map((f) => [f.name, typeof f.type === 'string' ? f.type : 'struct']));
}

function replayJson(path: string): Expected {
  const adds = new Map<string, AddAction>();
  let partitionColumns: string[] = [];
  let schemaString: string | undefined;
  const commits = readdirSync(join(path, '_delta_log')).filter((name) => /^\d{20}\.json$/.test(name)).sort();
  for (const name of commits) {
    for (const line of readFileSync(join(path, '_delta_log', name), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const action = JSON.parse(line) as { add?: AddAction; remove?: { path: string }; metaData?: { partitionColumns?: string[]; schemaString?: string } };
      if (action.add) adds.set(decodeURIComponent(action.add.path), action.add);
      if (action.remove) adds.delete(decodeURIComponent(action.remove.path));
      if (action.metaData) {
        partitionColumns = action.metaData.partitionColumns ?? [];
        schemaString = action.metaData.schemaString;
      }
    }
  }
  const types = columnTypes(schemaString);
  const files = Object.fromEntries([...adds].map(([p, add]) => [p, factsOf({ ...add, partitionValues: add.partitionValues ?? {} }, types)]));
  return { version: commits.length - 1, paths: [...adds.keys()].sort(), partitionColumns, files };
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
    const expected = JSON_ORACLE.has(table) ? replayJson(path) : await python<Expected>(
      `
import datetime, decimal, json, sys
from urllib.parse import unquote
import pyarrow
from deltalake import DeltaTable
table = DeltaTable(sys.argv[1])
adds = pyarrow.table(table.get_add_actions(flatten=True)).to_pylist()
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
def canonical(value):
    if isinstance(value, datetime.datetime):
        value = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return (value - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode()
    return value
files = {unquote(a["path"]): {"partitionValues": {k[len("partition."):]: canonical(v) for k, v in a.items() if k.startswith("partition.")},
  "numRecords": a["num_records"]} for a in adds}
print(json.dumps({"version": table.version(), "paths": sorted(files), "partitionColumns": table.metadata().partition_columns, "files": files}))
`,
      path,
    );
    const snapshot = await load(path);
    assert.ok(snapshot, 'a table');
    assert.equal(snapshot.version, expected.version);
    assert.deepEqual([...snapshot.files.keys()].map((p) => decodeURIComponent(p)).sort(), expected.paths);
    assert.deepEqual(snapshot.metaData?.partitionColumns, expected.partitionColumns);
    const types = columnTypes(snapshot.metaData?.schemaString);
    const ours = Object.fromEntries([...snapshot.files.values()].map((add) => [decodeURIComponent(add.path), factsOf(add, types)]));
    assert.deepEqual(ours, expected.files, 'per file: partition values and record count');
  });
}
