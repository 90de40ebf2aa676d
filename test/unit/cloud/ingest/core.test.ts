import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { IngestCore } from '../../../../cloud/ingest/core.js';
import { StaticSiteRegistry } from '../../../../cloud/sites/registry.js';
import { SiteStatusBoard } from '../../../../cloud/sites/status-board.js';
import { encodeBatch } from '../../../../shared/contract/envelopes.js';
import { silentLogger } from '../../../../shared/log.js';
import type { Reading, ReadingBatch } from '../../../../shared/reading.js';
import { testSite } from '../../../support/cloud-sites.js';
import { aircon } from '../../../support/observations.js';
import { RecordingSink } from '../../../support/recording-sink.js';

const reading = (siteId: string, seq: number): Reading => ({ v: 1, siteId, seq, ...aircon(seq % 3) });
const payload = (siteId: string, seqs: number[], batchSite = siteId): Buffer =>
  Buffer.from(encodeBatch(batchSite, `${seqs[0]}-${seqs.at(-1)}`, seqs.map((seq) => JSON.stringify(reading(batchSite, seq)))));
const source = { transport: 'mqtt' as const, channel: 't' };

async function core(limits = { maxBatchBytes: 1 << 20, maxInFlightBatches: 8, deadLetterMaxBytes: 1024 }) {
  const sites = new StaticSiteRegistry([await testSite('a'), await testSite('b'), await testSite('off', { enabled: false })]);
  const sink = new RecordingSink();
  const metrics = new Registry();
  return { sink, metrics, core: new IngestCore(sink, sites, new SiteStatusBoard(sites, metrics), limits, metrics, silentLogger()) };
}

test('a good batch is acked only after the sink has it', async () => {
  const { core: ingest, sink } = await core();
  const outcome = await ingest.accept('a', payload('a', [1, 2, 3]), source);
  assert.deepEqual(outcome, { kind: 'ack', ack: { v: 1, siteId: 'a', batchId: '1-3', lastSeq: 3 } });
  assert.equal(sink.batches.length, 1);
});

test('a batch naming another site is dead-lettered and never acked', async () => {
  const { core: ingest, sink } = await core();
  const outcome = await ingest.accept('a', payload('a', [5, 6], 'b'), source);
  assert.equal(outcome.kind, 'dead-letter');
  assert.equal(outcome.kind === 'dead-letter' && outcome.reason, 'foreign-site');
  assert.equal(outcome.kind === 'dead-letter' && outcome.ack, undefined);
  assert.equal(sink.batches.length, 0);
  assert.equal(sink.letters[0]?.reason, 'foreign-site');
});

test('unknown and disabled sites are dead-lettered without an ack', async () => {
  const { core: ingest } = await core();
  for (const [site, reason] of [['nobody', 'unknown-site'], ['off', 'site-disabled']] as const) {
    const outcome = await ingest.accept(site, payload(site, [1]), source);
    assert.deepEqual(outcome.kind === 'dead-letter' && [outcome.reason, outcome.ack], [reason, undefined]);
  }
});

test('an invalid batch of the site itself is kept and acked, so its outbox is not stalled', async () => {
  const { core: ingest, sink } = await core();
  const broken = JSON.parse(payload('a', [7, 8]).toString()) as ReadingBatch;
  (broken.readings[1] as { ts: string }).ts = 'yesterday';
  const outcome = await ingest.accept('a', Buffer.from(JSON.stringify(broken)), source);
  assert.equal(outcome.kind, 'dead-letter');
  assert.deepEqual(outcome.kind === 'dead-letter' && outcome.ack, { v: 1, siteId: 'a', batchId: '7-8', lastSeq: 8 });
  assert.equal(sink.letters[0]?.reason, 'invalid');
  assert.match(sink.letters[0]?.detail ?? '', /ts must match format/);
});

test('a batch over the byte limit is dead-lettered whole and acked', async () => {
  const { core: ingest, sink } = await core({ maxBatchBytes: 2000, maxInFlightBatches: 8, deadLetterMaxBytes: 1024 });
  const big = payload('a', Array.from({ length: 20 }, (_, i) => i + 1));
  const outcome = await ingest.accept('a', big, source);
  assert.equal(outcome.kind === 'dead-letter' && outcome.reason, 'too-large');
  assert.equal(outcome.kind === 'dead-letter' && outcome.ack?.lastSeq, 20);
  assert.deepEqual(sink.letters[0]?.payload, big);
});

test('with Kafka down nothing is promised', async () => {
  const { core: ingest, sink } = await core();
  sink.down = true;
  assert.equal((await ingest.accept('a', payload('a', [1]), source)).kind, 'unacked');
  assert.equal((await ingest.accept('a', Buffer.from('not json'), source)).kind, 'unacked', 'not even a dead letter is acked');
});

test('a newer contract is kept but not acked: the site keeps it until the cloud is updated', async () => {
  const { core: ingest } = await core();
  const newer = Buffer.from(JSON.stringify({ v: 2, siteId: 'a', batchId: '1-1', readings: [{ ...reading('a', 1), v: 2 }] }));
  const outcome = await ingest.accept('a', newer, source);
  assert.deepEqual(outcome.kind === 'unacked' && outcome.reason, 'newer-contract');
});

test('outcomes and dead letters are counted by reason', async () => {
  const { core: ingest, metrics } = await core();
  await ingest.accept('a', payload('a', [1]), source);
  await ingest.accept('nobody', payload('nobody', [1]), source);
  const text = await metrics.metrics();
  assert.match(text, /echolake_ingest_batches_total\{transport="mqtt",outcome="ack"\} 1/);
  assert.match(text, /echolake_ingest_dead_letters_total\{reason="unknown-site"\} 1/);
  assert.match(text, /echolake_ingest_readings_total\{site="a"\} 1/);
});
