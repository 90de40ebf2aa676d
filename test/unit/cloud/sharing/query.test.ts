import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AddAction } from '../../../../cloud/lake/delta/actions.js';
import { DeltaTable } from '../../../../cloud/lake/delta/table.js';
import { LocalObjectStore } from '../../../../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../../../../cloud/lake/tables/readings.js';
import type { SharedTable } from '../../../../cloud/sharing/catalog.js';
import { SharingError } from '../../../../cloud/sharing/errors.js';
import { fileId, limitedByHint, parseTimestamp, queryAnswer } from '../../../../cloud/sharing/query.js';
import { UrlSigner } from '../../../../cloud/sharing/signed-url.js';
import { SharedTables, type FileLink } from '../../../../cloud/sharing/tables.js';
import { silentLogger } from '../../../../shared/log.js';

const add = (path: string, numRecords?: number): AddAction => ({
  path,
  partitionValues: {},
  size: 1,
  modificationTime: 0,
  dataChange: true,
  stats: numRecords === undefined ? undefined : JSON.stringify({ numRecords }),
});

test('limitHint keeps files until their rows reach it; a file without stats keeps everything', () => {
  const files = [add('a', 10), add('b', 10), add('c', 10)];
  assert.deepEqual(limitedByHint(files, undefined), files);
  assert.deepEqual(limitedByHint(files, 0).map((f) => f.path), []);
  assert.deepEqual(limitedByHint(files, 10).map((f) => f.path), ['a']);
  assert.deepEqual(limitedByHint(files, 11).map((f) => f.path), ['a', 'b']);
  assert.deepEqual(limitedByHint([add('a', 1), add('x'), add('b', 1)], 2).map((f) => f.path), ['a', 'x', 'b']);
});

test('timestamps are ISO 8601 in UTC, or the older yyyy-[m]m-[d]d hh:mm:ss[.f...] in the server\'s zone; anything else is a 400 naming the parameter', () => {
  const zone = process.env.TZ;
  process.env.TZ = 'Asia/Tokyo'; // UTC+9 all year: the older form must be read in it
  try {
    assert.equal(parseTimestamp('timestamp', '2022-01-01T00:00:00Z'), Date.UTC(2022, 0, 1));
    assert.equal(parseTimestamp('timestamp', '2022-01-01T00:00:00.250Z'), Date.UTC(2022, 0, 1) + 250);
    assert.equal(parseTimestamp('timestamp', '2022-01-01 09:00:00'), Date.UTC(2022, 0, 1));
    assert.equal(parseTimestamp('timestamp', '2022-1-2 09:30:15.25'), Date.UTC(2022, 0, 2, 0, 30, 15, 250));
    assert.equal(parseTimestamp('timestamp', '2022-01-01 00:00:00.123456789'), Date.UTC(2021, 11, 31, 15) + 123, 'nanoseconds, to the millisecond');
    for (const bad of ['2022-01-01', 'yesterday', '2022-01-01T00:00:00+09:00', '2022-13-01T00:00:00Z', '2022-02-30 00:00:00', '2022-01-01 24:00:00', '2022-01-01 9:00:00', '2022-01-01T00:00:00', '2022-01-01 00:00:00.1234567890']) {
      assert.throws(() => parseTimestamp('startingTimestamp', bad), (err: unknown) => err instanceof SharingError && err.statusCode === 400 && err.message.startsWith('startingTimestamp'), bad);
    }
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
});

/** Counts the links made: a query that makes them all before answering holds the whole answer in memory. */
class CountingTables extends SharedTables {
  links = 0;

  override async link(table: SharedTable, path: string, size: number, baseUrl: string, now?: number): Promise<FileLink> {
    this.links += 1;
    return super.link(table, path, size, baseUrl, now);
  }
}

test('a query\'s file lines are made as they are taken, not all before the answer starts', async () => {
  const lakeRoot = mkdtempSync(join(tmpdir(), 'echolake-sharing-query-'));
  const delta = await DeltaTable.open(new LocalObjectStore(join(lakeRoot, 'wide')), READINGS_TABLE, silentLogger(), 'test');
  const files = 500;
  const adds = Array.from({ length: files }, (_, i) => ({ add: { path: `part-${i}.parquet`, partitionValues: {}, size: 10, modificationTime: 0, dataChange: true } }));
  assert.ok(await delta.commit(adds, { operation: 'WRITE' }));
  const tables = new CountingTables({ lakeRoot, s3: { endpoint: '', region: 'us-east-1', accessKeyId: '', secretAccessKey: '', forcePathStyle: true }, s3PublicEndpoint: '', signer: new UrlSigner('k'), urlExpirySeconds: 60, prefix: '/ds' });
  const table = { share: 's', schema: 'l', name: 'wide', table: 'wide' };

  const answer = await queryAnswer(tables, table, {}, 'http://x', 10);
  assert.equal(tables.links, 0, 'no file linked before the first line is asked for');
  const taken: unknown[] = [];
  for await (const line of answer.lines) {
    taken.push(line);
    if (taken.length === 12) break;
  }
  assert.equal(tables.links, 10, 'ten file lines taken, ten linked');
  const all: unknown[] = [];
  for await (const line of (await queryAnswer(tables, table, {}, 'http://x', 10)).lines) all.push(line);
  assert.equal(all.length, 2 + files);
});

test('a file id depends on its path only', () => {
  assert.equal(fileId('date=2026-11-23/a.parquet'), fileId('date=2026-11-23/a.parquet'));
  assert.notEqual(fileId('date=2026-11-23/a.parquet'), fileId('date=2026-11-23/b.parquet'));
  assert.match(fileId('x'), /^[0-9a-f]{32}$/);
});
