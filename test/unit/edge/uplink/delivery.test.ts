import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { pino } from 'pino';
import { BatchDelivery, type Backlog, type DeliveryOptions, type OutboxPort, type OutgoingBatch, type SeqRange, type StoredBatch } from '../../../../edge/uplink/delivery.js';
import { RepeatedWarnings } from '../../../../shared/repeated-warnings.js';
import { ackFor, encodeAck } from '../../../../shared/contract/envelopes.js';

/** The outbox's contract in memory: readings 1…n, each a small JSON text. */
class MemoryOutbox implements OutboxPort {
  ackedThrough = 0;
  private range: SeqRange | undefined;

  constructor(private readonly count: number) {}

  oldestUnsent(maxCount: number, maxBytes: number): StoredBatch | undefined {
    const seqs: number[] = [];
    for (let seq = this.ackedThrough + 1; seq <= this.count && seqs.length < maxCount && (seqs.length === 0 || (seqs.length + 1) * 10 <= maxBytes); seq += 1) seqs.push(seq);
    return this.batch(seqs, seqs.length === maxCount);
  }

  inFlight(): SeqRange | undefined {
    return this.range;
  }

  markInFlight(range: SeqRange): void {
    this.range = { firstSeq: range.firstSeq, lastSeq: range.lastSeq };
  }

  readRange(range: SeqRange): StoredBatch | undefined {
    return this.batch(Array.from({ length: range.lastSeq - range.firstSeq + 1 }, (_, i) => range.firstSeq + i), true);
  }

  acknowledge(lastSeq: number): number {
    const covered = Math.max(0, lastSeq - this.ackedThrough);
    this.ackedThrough = Math.max(this.ackedThrough, lastSeq);
    this.range = undefined;
    return covered;
  }

  backlog(): Backlog {
    return { backlog: this.count - this.ackedThrough, oldestUnsentAt: undefined };
  }

  private batch(seqs: number[], full: boolean): StoredBatch | undefined {
    const [first] = seqs;
    const last = seqs[seqs.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const payloads = seqs.map((seq) => `{"seq":${seq}}`.padEnd(10));
    return { firstSeq: first, lastSeq: last, payloads, bytes: payloads.length * 10, oldestAt: 0, full };
  }
}

const SITE = 'site-a';
const OPTIONS: DeliveryOptions = { siteId: SITE, batchMaxReadings: 10, batchMaxBytes: 1 << 20, batchMaxAgeMs: 0, ackTimeoutMs: 1_000, ackTimeoutMaxMs: 5_000 };

interface Rig {
  delivery: BatchDelivery;
  outbox: MemoryOutbox;
  sent: Array<{ batchId: string; at: number; attempt: number }>;
  lines: Array<{ msg: string; level: number; kind?: string; repeated?: number }>;
  now: () => number;
}

let clock = 0;
beforeEach(() => {
  clock = 0;
  mock.timers.enable({ apis: ['setTimeout'] });
  // No jitter: each wait is exactly its step, so the steps can be checked.
  mock.method(Math, 'random', () => 0);
});
afterEach(() => {
  mock.timers.reset();
  mock.restoreAll();
});

function advance(ms: number): void {
  clock += ms;
  mock.timers.tick(ms);
}

function rig(readings: number, options: Partial<DeliveryOptions> = {}): Rig {
  const lines: Rig['lines'] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Rig['lines'][number]) });
  const outbox = new MemoryOutbox(readings);
  const sent: Rig['sent'] = [];
  const delivery = new BatchDelivery({ ...OPTIONS, ...options }, outbox, (batch: OutgoingBatch) => sent.push({ batchId: batch.batchId, at: clock, attempt: batch.attempts }), log, new RepeatedWarnings(log, 60_000));
  return { delivery, outbox, sent, lines, now: () => clock };
}

const ack = (batchId: string, lastSeq: number, siteId = SITE) => encodeAck(ackFor(siteId, batchId, lastSeq));

test('an ack counts only for this site and the batch in flight; the others are counted and change nothing', () => {
  const { delivery, outbox, sent } = rig(25);
  delivery.linkIsUp();
  assert.deepEqual(sent.map((s) => s.batchId), ['1-10']);

  assert.equal(delivery.offerAck(ack('1-10', 10, 'site-b')), 'otherSite', "another site's ack naming our batch");
  assert.equal(delivery.offerAck(ack('11-20', 20)), 'notInFlight', 'an ack for a batch not yet sent');
  assert.equal(delivery.offerAck('{"v":1,"siteId":"site-a"'), 'malformed');
  assert.equal(delivery.offerAck(ack('1-10', 10).replace('"lastSeq":10', '"lastSeq":"all"')), 'malformed');
  assert.equal(outbox.ackedThrough, 0, 'the outbox is untouched');
  assert.deepEqual(sent.map((s) => s.batchId), ['1-10'], 'and nothing else was sent');

  assert.equal(delivery.offerAck(ack('1-10', 10)), 'accepted');
  assert.equal(outbox.ackedThrough, 10);
  assert.deepEqual(sent.map((s) => s.batchId), ['1-10', '11-20']);
  assert.equal(delivery.offerAck(ack('1-10', 10)), 'duplicate', "the cloud's ack of an earlier copy: not an attack, not counted");
  delivery.reject('wrongTopic', { topic: 'x' }, 'message on a topic other than the acks topic ignored');
  const status = delivery.status();
  assert.deepEqual(status.acksRejected, { malformed: 2, otherSite: 1, notInFlight: 1, wrongTopic: 1 });
  assert.equal(status.batchesAcknowledged, 1);
  assert.deepEqual(status.inFlight, { batchId: '11-20', attempts: 1 });
});

test('without an ack the wait doubles with each resend up to its cap, and a late ack for the batch in flight is still taken', () => {
  const { delivery, outbox, sent, now } = rig(15);
  delivery.linkIsUp();
  for (let i = 0; i < 30; i += 1) advance(500);
  const gaps = sent.slice(1).map((s, i) => s.at - (sent[i]?.at ?? 0));
  assert.deepEqual(gaps, [1_000, 2_000, 4_000, 5_000], 'doubling from ackTimeoutMs, capped at ackTimeoutMaxMs');
  assert.equal(delivery.status().resends, 4);
  assert.equal(delivery.status().ackTimeoutMs, 5_000);

  // The ack of the first copy, 15 s late: the batch is still the one in flight, so it counts.
  assert.equal(delivery.offerAck(ack('1-10', 10)), 'accepted');
  assert.equal(outbox.ackedThrough, 10);
  const next = sent[sent.length - 1];
  assert.deepEqual({ batchId: next?.batchId, at: next?.at }, { batchId: '11-15', at: now() }, 'the next batch at once');
  assert.equal(delivery.status().ackTimeoutMs, 1_000, 'and the next batch waits the first step again');
  advance(999);
  assert.equal(sent.length, 6, 'no resend before the first step');
  advance(1);
  assert.equal(sent.length, 7);
});

test('jitter only lengthens a wait, by at most a quarter', () => {
  mock.method(Math, 'random', () => 0.999);
  const { delivery, sent } = rig(5, { ackTimeoutMs: 1_000 });
  delivery.linkIsUp();
  advance(1_000);
  assert.equal(sent.length, 1, 'not before the step');
  advance(250);
  assert.equal(sent.length, 2, 'by a quarter after it at most');
});

test('while the link is down an overdue batch waits; back up, its ack timer starts again rather than a copy at once', () => {
  const { delivery, sent } = rig(5);
  delivery.linkIsUp();
  delivery.linkIsDown();
  advance(3_000);
  assert.equal(sent.length, 1);
  delivery.linkIsUp();
  assert.equal(sent.length, 1, 'no copy on reconnect');
  advance(1_000);
  assert.equal(sent.length, 2);
});

test('retryIn holds the batch for the given time with no ack timeout running; tooLarge halves this batch and the ones after it', () => {
  const { delivery, outbox, sent } = rig(40);
  delivery.linkIsUp();
  delivery.retryIn(3_000);
  advance(2_999);
  assert.equal(sent.length, 1, 'no resend from the ack timer meanwhile');
  advance(1);
  assert.equal(sent.length, 2);

  delivery.tooLarge(7_000);
  assert.deepEqual(sent.map((s) => s.batchId).slice(2), ['1-5'], 'half the batch, at once');
  assert.deepEqual(outbox.inFlight(), { firstSeq: 1, lastSeq: 5 }, 'and recorded as the batch in flight');
  delivery.offerAck(ack('1-5', 5));
  assert.equal(sent[sent.length - 1]?.batchId, '6-10', 'the batches after it are halved too');
  delivery.tooLarge(7_000);
  delivery.tooLarge(7_000);
  assert.equal(sent[sent.length - 1]?.batchId, '6-6');
  const before = sent.length;
  delivery.tooLarge(7_000);
  assert.equal(sent.length, before, 'one reading cannot be halved: it waits');
  advance(7_000);
  assert.equal(sent[sent.length - 1]?.batchId, '6-6', 'and goes again, never dropped');
});

test('2,000 malformed acks make one warning and one summary with the count, not 2,000 lines', () => {
  const { delivery, lines } = rig(5);
  delivery.linkIsUp();
  for (let i = 0; i < 2_000; i += 1) delivery.offerAck(`not json ${i}`);
  assert.equal(delivery.status().acksRejected.malformed, 2_000);
  assert.equal(lines.filter((line) => line.msg.startsWith('malformed acknowledgement ignored')).length, 1);
  advance(60_000);
  const summaries = lines.filter((line) => line.repeated !== undefined);
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0]?.repeated, 1_999);
  assert.match(summaries[0]?.msg ?? '', /^malformed acknowledgement ignored \(1999 more times in 60 s/);
});
