import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, statSync, truncateSync, utimesSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ReadingStore, type ReadingStoreOptions } from '../../../../edge/buffer/reading-store.js';
import { Database } from '../../../../edge/buffer/sqlite.js';
import { silentLogger } from '../../../../shared/log.js';
import type { Reading } from '../../../../shared/reading.js';
import { aircon } from '../../../support/observations.js';

const freshPath = () => join(mkdtempSync(join(tmpdir(), 'echolake-store-')), 'edge.db');
const openStore = (path: string, overrides: Partial<ReadingStoreOptions> = {}) =>
  ReadingStore.open({ path, siteId: 'site-a', durability: 'FULL', maxBytes: 64 * 1024 * 1024, historyMs: 3_600_000, ...overrides }, silentLogger());
const seqsOf = (readings: ReadonlyArray<{ seq: number }>) => readings.map((r) => r.seq);
/** Counted through a connection of its own, as another reader of the file would. */
const countRows = (path: string, from: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${from}`).get()?.n;
  } finally {
    db.close();
  }
};

test('numbers readings in one monotonic run that starts above the clock in microseconds', () => {
  const before = Date.now() * 1000;
  const store = openStore(freshPath());
  const first = store.append([aircon(0), aircon(1)]);
  const second = store.append([aircon(2)]);
  const seqs = seqsOf([...first, ...second]);
  assert.ok((seqs[0] ?? 0) > before, 'a new database numbers above every seq an earlier one could have used');
  assert.deepEqual(seqs, [seqs[0], (seqs[0] ?? 0) + 1, (seqs[0] ?? 0) + 2]);
  assert.ok(Number.isSafeInteger(seqs[2]));
  assert.equal(first[0]?.siteId, 'site-a');
  store.close();
});

test('hands out the oldest unsent readings bounded by count and bytes, at least one', () => {
  const store = openStore(freshPath());
  const made = store.append([aircon(0), aircon(1), aircon(2), aircon(3)]);
  const base = made[0]?.seq ?? 0;
  const three = store.oldestUnsent(3, 1_000_000);
  assert.equal(three?.firstSeq, base);
  assert.equal(three?.lastSeq, base + 2);
  assert.equal(three?.oldestAt, Date.parse(aircon(0).ts));
  assert.equal(store.oldestUnsent(10, 1)?.payloads.length, 1);
  assert.deepEqual((JSON.parse(three?.payloads[0] ?? '{}') as Reading).properties, aircon(0).properties);
  store.close();
});

test('an ack moves the unsent mark; acknowledged readings stay as history', () => {
  const store = openStore(freshPath());
  const made = store.append([aircon(0), aircon(0, { ts: '2026-11-23T05:00:10.000Z' }), aircon(1)]);
  const [a, b, c] = seqsOf(made) as [number, number, number];
  assert.equal(store.acknowledge(b), 2);
  assert.equal(store.acknowledge(b), 0, 'an ack repeated changes nothing');
  assert.equal(store.acknowledge(a), 0, 'an older ack never moves the mark back');
  assert.equal(store.oldestUnsent(10, 1_000_000)?.firstSeq, c);
  assert.deepEqual(store.stats().backlog, 1);
  const device = aircon(0).deviceId;
  assert.deepEqual(seqsOf(store.history(device, { limit: 10 })), [a, b]);
  assert.deepEqual(seqsOf(store.history(device, { limit: 1 })), [b], 'without since: the newest, oldest first');
  assert.deepEqual(seqsOf(store.history(device, { since: new Date('2026-11-23T05:00:05Z'), limit: 10 })), [b]);
  store.close();
});

test('history older than its window goes once acknowledged; unsent readings never age out', () => {
  const store = openStore(freshPath(), { historyMs: 60_000 });
  const [old, unsent] = seqsOf(store.append([aircon(0), aircon(1)])) as [number, number];
  store.acknowledge(old);
  store.maintain(Date.parse(aircon(1).ts) + 120_000);
  assert.deepEqual(seqsOf(store.history(aircon(0).deviceId, { limit: 10 })), []);
  assert.equal(store.oldestUnsent(10, 1_000_000)?.firstSeq, unsent);
  store.close();
});

test('housekeeping prunes in bounded steps, oldest first, stopping at the first reading still inside the window', () => {
  const store = openStore(freshPath(), { historyMs: 60_000 });
  const start = Date.parse('2026-11-23T00:00:00Z');
  const at = (ms: number) => aircon(0, { ts: new Date(start + ms).toISOString() });
  store.append(Array.from({ length: 12_000 }, (_, i) => at(i)));
  const young = store.append([at(10 * 60_000)]);
  const unsent = store.append([at(0)]);
  store.acknowledge(young[0]?.seq ?? 0);
  const now = start + 10 * 60_000 + 30_000; // the young reading is 30 s old, inside the 60 s window
  const steps = [];
  for (let step = store.maintain(now); ; step = store.maintain(now)) {
    steps.push(step.pruned);
    if (!step.more) break;
  }
  assert.deepEqual(steps.slice(0, 3), [5_000, 5_000, 2_000], 'each step prunes at most 5,000 rows');
  assert.equal(steps.slice(3).reduce((a, b) => a + b, 0), 0, 'later steps only hand pages back');
  assert.deepEqual(seqsOf(store.history(aircon(0).deviceId, { limit: 10 })), [unsent[0]?.seq, young[0]?.seq], 'the unsent reading and the young one stay');
  store.close();
});

test('the backlog counted from the seq counters matches the rows left, through acks and drops at the cap', () => {
  const path = freshPath();
  const store = openStore(path, { maxBytes: 2 * 1024 * 1024 });
  const big = (i: number) => aircon(i % 5, { raw: { f0: 'ab'.repeat(400) } });
  const counted = () => countRows(path, `readings WHERE seq > ${store.stats().ackedThrough}`);
  for (let cycle = 0; cycle < 30; cycle += 1) {
    const made = store.append(Array.from({ length: 100 }, (_, i) => big(cycle * 100 + i)));
    if (cycle % 7 === 3) store.acknowledge(store.oldestUnsent(150, 1e9)?.lastSeq ?? 0);
    if (cycle % 5 === 0) store.markInFlight({ firstSeq: made[0]?.seq ?? 0, lastSeq: made[9]?.seq ?? 0 });
    assert.equal(store.stats().backlog, counted(), `after cycle ${cycle}`);
  }
  assert.ok(store.stats().dropped > 0, 'the cap had to drop some');
  store.close();
});

test('the history answers the same from the late-written index as from the unindexed tail, across the seam', () => {
  const path = freshPath();
  const store = openStore(path, { historyMs: 3_600_000 });
  const now = Date.parse('2026-11-23T06:00:00Z');
  // Three devices, a reading each per minute for 40 minutes, committed in order.
  for (let minute = 0; minute < 40; minute += 1) {
    store.append([0, 1, 2].map((device) => aircon(device, { ts: new Date(now - (40 - minute) * 60_000).toISOString() })));
  }
  const device = aircon(1).deviceId;
  const ask = () => ({
    latest: seqsOf(store.history(device, { limit: 25 })),
    since: seqsOf(store.history(device, { since: new Date(now - 30 * 60_000), limit: 25 })),
    all: seqsOf(store.history(device, { limit: 1000 })),
  });
  const fromTail = ask();
  assert.equal(fromTail.all.length, 40);
  assert.deepEqual(fromTail.latest, fromTail.all.slice(-25));
  assert.deepEqual(fromTail.since, fromTail.all.slice(10, 35), 'since: the first 25 at or after the instant');

  assert.equal(store.maintain(now - 31 * 60_000).pruned, 0);
  assert.equal(countRows(path, 'history_index'), 0, 'nothing indexed while the oldest reading is under ten minutes old');
  while (store.maintain(now).more);
  assert.equal(countRows(path, 'history_index'), 120, 'once it is, the whole tail goes into the index together');
  // Ten more minutes of readings wait in the unindexed tail.
  for (let minute = 0; minute < 10; minute += 1) {
    store.append([0, 1, 2].map((d) => aircon(d, { ts: new Date(now + minute * 60_000).toISOString() })));
  }
  const seam = ask();
  assert.deepEqual(seam.all.slice(0, 40), fromTail.all);
  assert.equal(seam.all.length, 50, 'indexed and unindexed readings together');
  assert.deepEqual(seam.latest, seam.all.slice(-25), 'the newest 25: 15 from the index, 10 from the tail');
  assert.deepEqual(seam.since, fromTail.since);
  store.close();
});

test('history index entries of deleted readings never show, and go once past the window', () => {
  const path = freshPath();
  const store = openStore(path, { historyMs: 60 * 60_000 });
  const now = Date.parse('2026-11-23T06:00:00Z');
  const made = store.append(Array.from({ length: 120 }, (_, minute) => aircon(0, { ts: new Date(now - (120 - minute) * 60_000).toISOString() })));
  store.acknowledge(made[made.length - 1]?.seq ?? 0);
  while (store.maintain(now).more);
  const left = seqsOf(store.history(aircon(0).deviceId, { limit: 1000 }));
  assert.deepEqual(left, seqsOf(made.slice(60)), 'an hour of history is left, from the index');
  assert.equal(countRows(path, 'history_index'), 60, 'entries past the window went with their readings');
  store.close();
});

test('unsent readings stay in the history however old, indexed or not', () => {
  const path = freshPath();
  const store = openStore(path, { historyMs: 60 * 60_000 });
  const now = Date.parse('2026-11-23T06:00:00Z');
  // Three hours of a cloud outage: nothing acknowledged.
  const made = store.append(Array.from({ length: 180 }, (_, minute) => aircon(0, { ts: new Date(now - (180 - minute) * 60_000).toISOString() })));
  while (store.maintain(now).more);
  assert.ok((countRows(path, 'history_index') ?? 0) > 0, 'they were indexed');
  assert.deepEqual(seqsOf(store.history(aircon(0).deviceId, { limit: 1000 })), seqsOf(made));
  store.close();
});

test('a reading stamped in the future (the clock stepped back since) does not hold up pruning', () => {
  const store = openStore(freshPath(), { historyMs: 60 * 60_000 });
  const now = Date.parse('2026-11-23T06:00:00Z');
  const at = (minutesAgo: number) => aircon(0, { ts: new Date(now - minutesAgo * 60_000).toISOString() });
  const made = store.append([at(200), at(-24 * 60), at(190), at(180), at(5)]);
  store.acknowledge(made[made.length - 1]?.seq ?? 0);
  store.maintain(now);
  assert.deepEqual(seqsOf(store.history(aircon(0).deviceId, { limit: 10 })), [made[4]?.seq], 'only the reading inside the window is left');
  store.close();
});

test('seqs are never reused, not even after everything was acknowledged and the store reopened', () => {
  const path = freshPath();
  const store = openStore(path);
  const last = seqsOf(store.append([aircon(0), aircon(1)]))[1] ?? 0;
  store.acknowledge(last);
  store.maintain(Date.now() + 10 * 3_600_000);
  store.close();
  const reopened = openStore(path);
  assert.deepEqual(seqsOf(reopened.append([aircon(0)])), [last + 1]);
  reopened.close();
});

test('at the byte cap the oldest readings go, history first, each dropped run counted with its seqs', () => {
  const store = openStore(freshPath(), { maxBytes: 2 * 1024 * 1024 });
  const big = (i: number) => aircon(i % 3, { raw: { f0: 'ab'.repeat(250) }, ts: new Date(Date.UTC(2026, 10, 23, 0, 0, 0, i)).toISOString() });
  const made: Reading[] = [];
  for (let cycle = 0; cycle < 40; cycle += 1) {
    made.push(...store.append(Array.from({ length: 100 }, (_, i) => big(cycle * 100 + i))));
    if (cycle === 4) store.acknowledge(made[made.length - 1]?.seq ?? 0);
  }
  const stats = store.stats();
  assert.ok(stats.databaseBytes <= 2 * 1024 * 1024, `live bytes ${stats.databaseBytes} stay under the cap`);
  const runs = store.droppedRuns();
  assert.ok(runs.length > 0 && stats.dropped > 0, 'unsent readings had to go');
  assert.equal(stats.dropped, runs.reduce((sum, r) => sum + r.count, 0));
  const firstUnsent = made[500]?.seq ?? 0;
  assert.equal(runs[0]?.firstSeq, firstUnsent, 'the oldest unsent reading went first, after all history');
  // What is left unsent plus what was dropped is exactly what was made and not acknowledged.
  const left = store.oldestUnsent(100_000, 1e9);
  assert.equal((left?.payloads.length ?? 0) + stats.dropped, made.length - 500);
  assert.equal(left?.lastSeq, made[made.length - 1]?.seq, 'the newest readings are kept');
  store.close();
});

test('a corrupt file is moved aside and a fresh database starts, numbering above the old one even with the clock behind', () => {
  const path = freshPath();
  const store = openStore(path);
  const old = seqsOf(store.append([aircon(0)]))[0] ?? 0;
  store.close();
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 0);
  closeSync(fd);
  // The gateway's clock now reads an hour earlier than when the old file was last written.
  const future = new Date(Date.now() + 3_600_000);
  utimesSync(path, future, future);
  const fresh = openStore(path);
  const next = seqsOf(fresh.append([aircon(1)]))[0] ?? 0;
  assert.ok(next > old, 'numbering never goes back');
  assert.ok(next > future.getTime() * 1000, 'the replaced file\'s last write bounds the new numbering from below');
  assert.ok(readdirSync(dirname(path)).some((name) => name.startsWith('edge.db.corrupt-')), 'the bad file is kept for a post-mortem');
  assert.ok(statSync(path).size > 0);
  fresh.close();
});

test('a corrupt file takes its unsent readings with it, counted as a drop from its seq counters', () => {
  const path = freshPath();
  const store = openStore(path, { durability: 'NORMAL' });
  const made: Reading[] = [];
  for (let cycle = 0; cycle < 20; cycle += 1) made.push(...store.append(Array.from({ length: 100 }, (_, i) => aircon(i % 7, { raw: { f0: 'cd'.repeat(100) } }))));
  const acked = made[499]?.seq ?? 0;
  store.acknowledge(acked);
  store.close();
  // Damage the readings, not the counters: a page from the middle of the file, where the readings are.
  const pages = statSync(path).size / 4096;
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, Math.floor(pages / 2) * 4096);
  closeSync(fd);
  const fresh = openStore(path);
  const lost = fresh.droppedRuns();
  assert.deepEqual(lost, [{ firstSeq: acked + 1, lastSeq: made[made.length - 1]?.seq, count: 1500, reason: 'corrupt' }]);
  assert.equal(fresh.stats().dropped, 1500, 'counted in the status like a drop at the cap');
  assert.equal(fresh.stats().backlog, 0, 'but not as a backlog of the new file');
  fresh.close();
});

test('a database that cannot be opened for another reason is not moved aside: the error names it and the fix', () => {
  const path = freshPath();
  mkdirSync(path);
  assert.throws(() => openStore(path), /cannot open the reading store .*edge\.db: .*check that the state directory exists and is writable/);
  assert.ok(!readdirSync(dirname(path)).some((name) => name.includes('corrupt')), 'nothing moved aside');
});

test('during a long outage the history index never crowds the readings out of the capped file', () => {
  const path = freshPath();
  const store = openStore(path, { durability: 'NORMAL', maxBytes: 2 * 1024 * 1024, historyMs: 3_600_000 });
  const start = Date.parse('2026-11-01T00:00:00Z');
  // A month without the cloud: ten devices, a reading each every ten minutes, housekeeping hourly.
  for (let hour = 0; hour < 30 * 24; hour += 1) {
    const ts = (minute: number) => new Date(start + (hour * 60 + minute) * 60_000).toISOString();
    store.append(Array.from({ length: 60 }, (_, i) => aircon(i % 10, { ts: ts(Math.floor(i / 10) * 10), raw: { f0: 'ab'.repeat(200) } })));
    while (store.maintain(start + (hour + 1) * 3_600_000).more);
  }
  const orphans = countRows(path, 'history_index WHERE seq NOT IN (SELECT seq FROM readings)');
  assert.equal(orphans, 0, 'no index entry outlives its reading');
  const stats = store.stats();
  assert.ok(stats.databaseBytes <= 2 * 1024 * 1024);
  assert.ok(stats.backlog > 1000, `the file still holds a backlog worth keeping: ${stats.backlog}`);
  assert.equal(store.health(), undefined, 'every commit succeeded');
  store.close();
});

test('a commit bigger than the room left under the cap makes room for itself instead of failing', () => {
  const cap = 1024 * 1024;
  const store = openStore(freshPath(), { durability: 'NORMAL', maxBytes: cap });
  const reading = (i: number) => aircon(i % 5, { raw: { f0: 'ab'.repeat(300) } });
  // Fill to just under the mark where room is made ahead of a commit.
  while (store.stats().databaseBytes < cap * 0.85) store.append([reading(0), reading(1)]);
  const big = store.append(Array.from({ length: 250 }, (_, i) => reading(i)));
  assert.equal(big.length, 250);
  assert.equal(store.health(), undefined);
  assert.ok(store.stats().dropped > 0, 'older unsent readings made the room, counted');
  assert.ok(store.stats().databaseBytes <= cap);
  store.close();
});

test('refuses a database that numbers another site, naming both and the fix', () => {
  const path = freshPath();
  openStore(path).close();
  assert.throws(() => openStore(path, { siteId: 'site-b' }), /belongs to site site-a, but siteId is site-b.*move the file aside/);
});

test('the batch in flight outlives a restart, clears with its ack, and is spared at the cap', () => {
  const path = freshPath();
  const store = openStore(path, { maxBytes: 2 * 1024 * 1024 });
  const made = store.append([aircon(0), aircon(1), aircon(2)]);
  const range = { firstSeq: made[0]?.seq ?? 0, lastSeq: made[1]?.seq ?? 0 };
  store.markInFlight(range);
  store.close();
  const reopened = openStore(path, { maxBytes: 2 * 1024 * 1024 });
  assert.deepEqual(reopened.inFlight(), range);
  assert.equal(reopened.readRange(range)?.payloads.length, 2);
  const big = (i: number) => aircon(i % 3, { raw: { f0: 'ab'.repeat(250) } });
  for (let cycle = 0; cycle < 40; cycle += 1) reopened.append(Array.from({ length: 100 }, (_, i) => big(i)));
  assert.ok(reopened.stats().dropped > 0);
  assert.equal(reopened.readRange(range)?.payloads.length, 2, 'the in-flight batch is whole after drops');
  assert.ok((reopened.droppedRuns()[0]?.firstSeq ?? 0) > range.lastSeq);
  reopened.acknowledge(range.lastSeq - 1);
  assert.equal(reopened.inFlight(), undefined, 'any ack of the batch in flight clears it; the rest goes in the next batch');
  assert.equal(reopened.oldestUnsent(1, 1e9)?.firstSeq, range.lastSeq);
  reopened.close();
});

test('device events are numbered in the same seq as readings; every reading carries the database epoch', () => {
  const path = freshPath();
  const store = openStore(path);
  const epoch = store.epoch();
  assert.match(epoch, /^[0-9a-f]{16}$/);
  const event = { deviceId: aircon(0).deviceId, eoj: '013001', address: '10.0.0.9', ts: aircon(0).ts, kind: 'event' as const, event: { type: 'moved', fromAddress: '10.0.0.5', toAddress: '10.0.0.9' } };
  const made = store.append([aircon(0), event, aircon(1)]);
  assert.deepEqual(seqsOf(made), [made[0]?.seq, (made[0]?.seq ?? 0) + 1, (made[0]?.seq ?? 0) + 2]);
  assert.ok(made.every((r) => r.epoch === epoch));
  const sent = store.oldestUnsent(10, 1_000_000)?.payloads.map((p) => JSON.parse(p) as Record<string, unknown>);
  assert.deepEqual(sent?.[1], { v: 1, siteId: 'site-a', seq: made[1]?.seq, epoch, ...event });
  store.close();
  assert.equal(openStore(path).epoch(), epoch, 'the epoch stays with its database');
  assert.notEqual(openStore(freshPath()).epoch(), epoch, 'a new database starts a new seq stream');
});

/** Where a truncated file ends: SQLite finds the first two damaged; a file of 0 bytes is a valid empty database to it. */
const TRUNCATIONS: ReadonlyArray<[string, (size: number) => number]> = [
  ['to half its pages (the readings at the end gone)', (size) => Math.floor(size / 2 / 4096) * 4096],
  ['inside its header (50 bytes left)', () => 50],
  ['to nothing (0 bytes, as a power cut can leave a file whose data never reached the disk)', () => 0],
];

for (const [how, cut] of TRUNCATIONS) {
  test(`a database truncated ${how} still has its unsent readings counted as a seq range`, () => {
    const path = freshPath();
    const store = openStore(path, { durability: 'NORMAL' });
    const made: Reading[] = [];
    for (let cycle = 0; cycle < 20; cycle += 1) made.push(...store.append(Array.from({ length: 100 }, (_, i) => aircon(i % 7, { raw: { f0: 'cd'.repeat(100) } }))));
    const acked = made[499]?.seq ?? 0;
    const last = made[made.length - 1]?.seq ?? 0;
    store.acknowledge(acked);
    store.close();
    truncateSync(path, cut(statSync(path).size));

    const fresh = openStore(path);
    assert.deepEqual(fresh.droppedRuns(), [{ firstSeq: acked + 1, lastSeq: last, count: 1500, reason: 'corrupt' }]);
    assert.equal(fresh.stats().dropped, 1500, 'droppedReadings says 1500, not 0');
    assert.equal(fresh.stats().backlog, 0);
    assert.ok(readdirSync(dirname(path)).some((name) => name.startsWith('edge.db.corrupt-')), 'the damaged file is kept for a post-mortem');
    assert.ok((seqsOf(fresh.append([aircon(1)]))[0] ?? 0) > last, 'the fresh database numbers above every seq the lost one handed out');
    fresh.close();
  });
}

test('an empty file with no seq counters beside it is a new database, not a damaged one', () => {
  const path = freshPath();
  closeSync(openSync(path, 'w'));
  const store = openStore(path);
  assert.deepEqual(store.droppedRuns(), []);
  assert.ok(!readdirSync(dirname(path)).some((name) => name.includes('corrupt')), 'nothing moved aside');
  store.close();
});

test('a database whose header is zeroed still has its loss counted as a seq range, from the seq counters side file', () => {
  const path = freshPath();
  const store = openStore(path, { durability: 'NORMAL' });
  const made = [...store.append(Array.from({ length: 300 }, (_, i) => aircon(i % 7)))];
  const acked = made[99]?.seq ?? 0;
  store.acknowledge(acked);
  store.close();
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(4096, 0), 0, 4096, 0); // the header and the first page: SQLite no longer knows the file
  closeSync(fd);
  const fresh = openStore(path);
  assert.deepEqual(fresh.droppedRuns(), [{ firstSeq: acked + 1, lastSeq: made[made.length - 1]?.seq, count: 200, reason: 'corrupt' }]);
  assert.equal(fresh.stats().dropped, 200, 'droppedReadings says 200, not 0');
  fresh.close();
});
