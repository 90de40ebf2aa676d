// The sink's queueing on a producer stand-in (a unit test of one module: the real client is
// measured through the whole ingest in `npm run bench ingest` and tested live in the integration tests).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KafkaReadingSink } from '../../../../cloud/ingest/kafka-readings-sink.js';
import type { KafkaProducer, Placement, ProducedRecord } from '../../../../cloud/kafka/producer.js';
import { READING_SCHEMA_VERSION, type Reading, type ReadingBatch } from '../../../../shared/reading.js';

const topics = { readings: 'readings', deadLetter: 'dlq' };

/** Records every request; each waits until `release()` so the test decides when Kafka answers. */
class HeldProducer implements KafkaProducer {
  readonly requests: Array<{ topic: string; records: ProducedRecord[] }> = [];
  private waiting: Array<{ resolve: (p: Placement) => void; reject: (e: Error) => void }> = [];

  connect(): Promise<void> {
    return Promise.resolve();
  }

  send(topic: string, records: readonly ProducedRecord[]): Promise<Placement> {
    this.requests.push({ topic, records: [...records] });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  disconnect(): Promise<void> {
    return Promise.resolve();
  }

  /** Answers the oldest open request. */
  async release(error?: Error): Promise<void> {
    await settle();
    const next = this.waiting.shift();
    assert.ok(next, 'a request is waiting for Kafka');
    if (error) next.reject(error);
    else next.resolve([{ partition: 0, baseOffset: String(this.requests.length) }]);
    await settle();
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function batch(siteId: string, firstSeq: number, count: number, padding = 0): ReadingBatch {
  const readings: Reading[] = Array.from({ length: count }, (_, i) => ({
    v: READING_SCHEMA_VERSION,
    siteId,
    seq: firstSeq + i,
    deviceId: `${siteId}-dev-${i % 3}`,
    eoj: '013001',
    address: '192.168.1.10',
    ts: '2026-12-07T00:00:00.000Z',
    kind: 'poll',
    properties: { note: 'x'.repeat(padding) },
    raw: {},
  }));
  return { v: READING_SCHEMA_VERSION, siteId, batchId: `${firstSeq}-${firstSeq + count - 1}`, readings };
}

const seqs = (records: ProducedRecord[]): string[] => records.map((r) => {
  const reading = JSON.parse(String(r.value)) as Reading;
  return `${reading.siteId}:${reading.seq}`;
});

test('batches that arrive while a request is out go together in the next one, in arrival order', async () => {
  const producer = new HeldProducer();
  const sink = new KafkaReadingSink(producer, topics, 1024);
  const first = sink.writeBatch(batch('a', 1, 2));
  await settle();
  const later = [sink.writeBatch(batch('b', 1, 2)), sink.writeBatch(batch('c', 5, 1)), sink.writeBatch(batch('a', 3, 2))];
  assert.equal(producer.requests.length, 1, 'one request in flight at a time');
  await producer.release();
  await first;
  assert.equal(producer.requests.length, 2);
  assert.deepEqual(seqs(producer.requests[1]?.records ?? []), ['b:1', 'b:2', 'c:5', 'a:3', 'a:4']);
  assert.deepEqual(producer.requests[1]?.records.map((r) => r.headers.batchId), ['1-2', '1-2', '5-5', '3-4', '3-4']);
  await producer.release();
  assert.equal((await Promise.all(later)).length, 3);
});

test('a failed request fails every batch in it, and the next request goes on', async () => {
  const producer = new HeldProducer();
  const sink = new KafkaReadingSink(producer, topics, 1024);
  const first = sink.writeBatch(batch('a', 1, 1));
  await settle();
  const b = sink.writeBatch(batch('b', 1, 1));
  const c = sink.writeBatch(batch('c', 1, 1));
  await producer.release();
  await first;
  const failed = [assert.rejects(b, /NOT_ENOUGH_REPLICAS/), assert.rejects(c, /NOT_ENOUGH_REPLICAS/)];
  await producer.release(new Error('NOT_ENOUGH_REPLICAS'));
  await Promise.all(failed);
  const d = sink.writeBatch(batch('d', 1, 1));
  await producer.release();
  await d;
  assert.equal(producer.requests.length, 3);
});

test('no request grows past the size Kafka takes; a large batch is split and resolves when every part is in', async () => {
  const producer = new HeldProducer();
  const sink = new KafkaReadingSink(producer, topics, 1024);
  // 300 readings of ~5 KB: ~1.5 MB, over the 800 KiB a request may carry.
  const large = sink.writeBatch(batch('big', 1, 300, 5000));
  let done = false;
  void large.then(() => (done = true));
  await producer.release();
  assert.equal(done, false, 'the batch waits for its second part');
  await producer.release();
  await large;
  assert.equal(producer.requests.length, 2);
  for (const request of producer.requests) {
    const bytes = request.records.reduce((sum, r) => sum + Buffer.byteLength(r.value), 0);
    assert.ok(bytes <= 800 * 1024, `request of ${bytes} bytes`);
  }
  assert.deepEqual(seqs(producer.requests.flatMap((r) => r.records)).slice(0, 3), ['big:1', 'big:2', 'big:3']);
});

test('dead letters go to their own topic in pieces, never mixed into a readings request', async () => {
  const producer = new HeldProducer();
  const sink = new KafkaReadingSink(producer, topics, 1024);
  const readings = sink.writeBatch(batch('a', 1, 1));
  await settle();
  const letter = sink.writeDeadLetter({ id: 'l1', siteId: 'a', source: 'mqtt:t', reason: 'invalid', detail: 'd', payload: Buffer.alloc(2500, 1) });
  const more = sink.writeBatch(batch('b', 1, 1));
  await producer.release();
  await readings;
  for (let i = 0; i < 4; i += 1) await producer.release();
  await Promise.all([letter, more]);
  const [, ...rest] = producer.requests;
  // One piece per request: whatever the piece size, a request stays below Kafka's limits.
  assert.deepEqual(rest.map((r) => [r.topic, r.records.map((x) => x.headers.part ?? x.headers.batchId).join()]), [
    ['dlq', '0'],
    ['dlq', '1'],
    ['dlq', '2'],
    ['readings', '1-1'],
  ]);
});
