import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LocalObjectStore } from '../../../../../cloud/lake/storage/local-store.js';

const fresh = () => new LocalObjectStore(mkdtempSync(join(tmpdir(), 'echolake-store-')));

test('put, get, ranged get and delete of nested keys', async () => {
  const store = fresh();
  await store.put('a/b/c.bin', Buffer.from('0123456789'));
  assert.equal((await store.get('a/b/c.bin'))?.toString(), '0123456789');
  assert.equal((await store.getRange('a/b/c.bin', 2, 5))?.toString(), '234');
  assert.equal((await store.getRange('a/b/c.bin', 8, 100))?.toString(), '89', 'the end is clamped to the size');
  assert.equal(await store.get('missing'), undefined);
  assert.equal(await store.getRange('missing', 0, 1), undefined);
  await store.put('a/b/c.bin', Buffer.from('new'));
  assert.equal((await store.get('a/b/c.bin'))?.toString(), 'new', 'put overwrites');
  await store.delete('a/b/c.bin');
  await store.delete('a/b/c.bin');
  assert.equal(await store.get('a/b/c.bin'), undefined);
});

test('putIfAbsent: exactly one of many racing writers wins and no temp file stays', async () => {
  const store = fresh();
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putIfAbsent('_delta_log/00000000000000000001.json', Buffer.from(`writer ${i}`))));
  assert.equal(results.filter(Boolean).length, 1);
  const winner = results.indexOf(true);
  assert.equal((await store.get('_delta_log/00000000000000000001.json'))?.toString(), `writer ${winner}`);
  assert.deepEqual(readdirSync(join(store.location, '_delta_log')), ['00000000000000000001.json']);
});

test('list is recursive, sorted, with size and mtime, and starts after a key', async () => {
  const store = fresh();
  for (const key of ['_delta_log/00000000000000000002.json', 'date=2026-01-01/x.parquet', '_delta_log/00000000000000000000.json', '_delta_log/00000000000000000001.json']) {
    await store.put(key, Buffer.from(key));
  }
  const all = await store.list('');
  assert.deepEqual(all.map((o) => o.key), ['_delta_log/00000000000000000000.json', '_delta_log/00000000000000000001.json', '_delta_log/00000000000000000002.json', 'date=2026-01-01/x.parquet']);
  assert.equal(all[3]?.size, 'date=2026-01-01/x.parquet'.length);
  assert.ok((all[0]?.lastModified ?? 0) > Date.now() - 60_000);
  const log = await store.list('_delta_log/', { startAfter: '_delta_log/00000000000000000000.json' });
  assert.deepEqual(log.map((o) => o.key), ['_delta_log/00000000000000000001.json', '_delta_log/00000000000000000002.json']);
  assert.deepEqual(await store.list('nothing/'), []);
});
