import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Outbox } from '../../edge/buffer/outbox.js';
import { silentLogger } from '../../shared/log.js';
import type { Reading } from '../../shared/reading.js';
import { aircon } from '../support/observations.js';

const openOutbox = (path: string, siteId = 'site-a') => Outbox.open({ path, siteId, durability: 'FULL' }, silentLogger());
const freshPath = () => join(mkdtempSync(join(tmpdir(), 'echolake-outbox-')), 'edge.db');

test('numbers readings per site in one monotonic run', () => {
  const outbox = openOutbox(freshPath());
  const first = outbox.append([aircon(0), aircon(1)]);
  const second = outbox.append([aircon(2)]);
  assert.deepEqual([...first, ...second].map((r) => r.seq), [1, 2, 3]);
  assert.equal(first[0]?.siteId, 'site-a');
  assert.equal(first[0]?.v, 1);
  outbox.close();
});

test('hands out the oldest readings bounded by count and bytes, at least one', () => {
  const outbox = openOutbox(freshPath());
  outbox.append([aircon(0), aircon(1), aircon(2), aircon(3)]);
  assert.deepEqual(pick(outbox.oldest(3, 1_000_000)), { firstSeq: 1, lastSeq: 3, count: 3 });
  assert.deepEqual(pick(outbox.oldest(10, 1)), { firstSeq: 1, lastSeq: 1, count: 1 });
  const stored = outbox.oldest(1, 1_000_000);
  assert.deepEqual((JSON.parse(stored?.payloads[0] ?? '{}') as Reading).properties, aircon(0).properties);
  outbox.close();
});

test('acknowledged readings leave; seqs are never reused, not even after the outbox empties and reopens', () => {
  const path = freshPath();
  const outbox = openOutbox(path);
  outbox.append([aircon(0), aircon(1)]);
  assert.equal(outbox.acknowledge(2), 2);
  assert.equal(outbox.oldest(10, 1_000_000), undefined);
  outbox.close();
  const reopened = openOutbox(path);
  assert.deepEqual(reopened.append([aircon(0)]).map((r) => r.seq), [3]);
  reopened.close();
});

test('refuses a database that numbers another site, naming both and the fix', () => {
  const path = freshPath();
  openOutbox(path, 'site-a').close();
  assert.throws(() => openOutbox(path, 'site-b'), /belongs to site site-a, but siteId is site-b.*move the file aside/);
});

function pick(batch: ReturnType<Outbox['oldest']>) {
  return batch && { firstSeq: batch.firstSeq, lastSeq: batch.lastSeq, count: batch.payloads.length };
}
