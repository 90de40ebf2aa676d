import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ReadingStore } from '../../edge/buffer/reading-store.js';
import { Database } from '../../edge/buffer/sqlite.js';
import { startSimulator, type SimulatorHandle } from '../../edge/simulator/simulator.js';
import { silentLogger } from '../../shared/log.js';
import type { Reading } from '../../shared/reading.js';
import { Deployable, type LogEvent } from '../support/deployable.js';
import { requiredEnv } from '../support/env.js';
import { readWholeTopic, type TopicMessage } from '../support/kafka-topic.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep } from '../support/wait.js';
import { startMosquitto } from '../services/mosquitto.js';
import type { RunningService } from '../services/service.js';
import { cloudTestEnv } from '../support/cloud-sites.js';

// The edge under everything a remote site throws at it — SIGKILL during polling and sending, the
// broker gone for a while, the link cut, the byte cap filled, a corrupt database — and then the
// count in Kafka by (siteId, seq): one unbroken run per database, holes only where the edge
// counted a drop at its cap, and a seq twice only inside a whole batch sent again.
const run = randomUUID().slice(0, 8);
const siteId = `faults-${run}`;
const topic = `readings-faults-${run}`;
const work = mkdtempSync(join(tmpdir(), 'echolake-faults-'));
const stateDir = join(work, 'edge');
const echonetPort = 20_000 + Math.floor(Math.random() * 20_000);
const cleanup: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

class Site {
  readonly lives: Deployable[] = [];
  constructor(private readonly uplinkPort: number) {}

  get edge(): Deployable {
    const current = this.lives[this.lives.length - 1];
    if (current === undefined) throw new Error('the edge has not started');
    return current;
  }

  start(): Deployable {
    const edge = new Deployable('edge', 'edge/main.ts', [], {
      LOG_LEVEL: 'debug',
      ECHOLAKE_EDGE_SITE_ID: siteId,
      ECHOLAKE_EDGE_STATE_DIR: stateDir,
      ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
      ECHOLAKE_EDGE_ECHONET__PORT: String(echonetPort),
      ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: '200',
      ECHOLAKE_EDGE_ECHONET__REQUEST_TIMEOUT_MS: '300',
      ECHOLAKE_EDGE_ECHONET__SEARCH_INTERVAL_MS: '2000',
      ECHOLAKE_EDGE_API__PORT: '0',
      ECHOLAKE_EDGE_BUFFER__COMMIT_INTERVAL_MS: '200',
      ECHOLAKE_EDGE_BUFFER__MAX_BYTES: String(1024 * 1024),
      ECHOLAKE_EDGE_UPLINK__URL: `mqtt://127.0.0.1:${this.uplinkPort}`,
      ECHOLAKE_EDGE_UPLINK__BATCH_MAX_READINGS: '100',
      ECHOLAKE_EDGE_UPLINK__BATCH_MAX_AGE_MS: '200',
      ECHOLAKE_EDGE_UPLINK__ACK_TIMEOUT_MS: '1500',
      ECHOLAKE_EDGE_UPLINK__RECONNECT_MIN_MS: '200',
      ECHOLAKE_EDGE_UPLINK__RECONNECT_MAX_MS: '1000',
    });
    this.lives.push(edge);
    return edge;
  }

  async backlog(): Promise<number> {
    const api = String((await this.edge.waitFor((e) => e.msg === 'local API listening', 20_000, 'the local API')).url);
    const status = (await (await fetch(`${api}/api/v1/status`)).json()) as { backlog: { depth: number } };
    return status.backlog.depth;
  }

  /**
   * Waits until every reading made so far is acknowledged by the cloud. Call it with the units
   * silent; it first lets answers still on their way and the pending group commit land.
   */
  async drained(timeoutMs: number): Promise<void> {
    await sleep(1_500);
    const deadline = Date.now() + timeoutMs;
    while ((await this.backlog()) > 0) {
      if (Date.now() > deadline) throw new Error(`backlog not drained in ${timeoutMs} ms\n${this.edge.tail()}`);
      await sleep(250);
    }
  }

  events(msg: string): LogEvent[] {
    return this.lives.flatMap((edge) => edge.events.filter((e) => e.msg === msg));
  }
}

test('SIGKILLs, a lost broker, a cut link, a full cap and a corrupt file: nothing lost, nothing doubled', { timeout: 300_000 }, async (t) => {
  let broker: RunningService = await startMosquitto();
  cleanup.push(() => broker.stop());
  const brokerPort = () => Number(new URL(broker.env.ECHOLAKE_TEST_MQTT_URL ?? '').port);
  const siteLink = await TcpProxy.start(brokerPort());
  const cloudLink = await TcpProxy.start(brokerPort());
  cleanup.push(() => siteLink.close(), () => cloudLink.close());

  const cloud = new Deployable('cloud', 'cloud/main.ts', [], {
    ...(await cloudTestEnv(work, [siteId])),
    ECHOLAKE_CLOUD_ROLES__LAKE: 'false',
    ECHOLAKE_CLOUD_MQTT__URL: `mqtt://127.0.0.1:${cloudLink.port}`,
    ECHOLAKE_CLOUD_MQTT__CLIENT_ID: `ingest-${run}`,
    ECHOLAKE_CLOUD_MQTT__SHARED_GROUP: `ingest-${run}`,
    ECHOLAKE_CLOUD_KAFKA__BROKERS: requiredEnv('ECHOLAKE_TEST_KAFKA_BROKERS'),
    ECHOLAKE_CLOUD_KAFKA__TOPICS__READINGS: topic,
    ECHOLAKE_CLOUD_KAFKA__TOPICS__DEAD_LETTER: `dlq-faults-${run}`,
  });
  cleanup.push(() => cloud.stop());
  await cloud.waitFor((e) => e.msg === 'ingest subscribed', 60_000, 'the ingest');

  const simulator: SimulatorHandle = await startSimulator({
    interfaceAddress: '127.0.0.1', baseAddress: '127.0.6.2', nodes: 24, port: echonetPort, tickMs: 0, seed: 11, logger: silentLogger(),
  });
  cleanup.push(() => simulator.stop());
  const silence = (silent: boolean) => simulator.nodes.forEach((node) => node.setSilent(silent));
  const site = new Site(siteLink.port);
  cleanup.push(() => site.edge.stop('SIGKILL'));

  // 1. SIGKILL at random moments while it polls and sends.
  for (let kill = 0; kill < 5; kill += 1) {
    const edge = site.start();
    await edge.waitFor((e) => e.msg === 'batch acknowledged by the cloud', 30_000, 'a batch through');
    await sleep(300 + Math.random() * 1500);
    await edge.stop('SIGKILL');
  }
  // An ack that never arrives: the cloud has the batch in Kafka, the edge dies without knowing,
  // and sends the very same batch again when it comes back.
  const edge = site.start();
  await edge.waitFor((e) => e.msg === 'batch acknowledged by the cloud', 30_000, 'a batch through');
  siteLink.holdReplies(true);
  // Only a batch sent from now on: its ack is held back for sure.
  const heldFrom = edge.events.length;
  const held = String(
    (await edge.waitFor((e) => e.msg === 'batch sent' && edge.events.indexOf(e) >= heldFrom, 20_000, 'a batch sent while replies are held')).batchId,
  );
  await cloud.waitFor((e) => e.msg === 'batch in kafka' && e.batchId === held, 20_000, `batch ${held} in Kafka`);
  await edge.stop('SIGKILL');
  siteLink.holdReplies(false);
  const back = site.start();
  await back.waitFor((e) => e.msg === 'batch sent' && e.batchId === held, 30_000, `batch ${held} sent again by the next life`);
  const takenByCloud = () => cloud.events.filter((e) => e.msg === 'batch in kafka' && e.batchId === held).length;
  await cloud.waitFor(() => takenByCloud() >= 2, 30_000, `batch ${held} taken by the cloud a second time`);

  // 2. The broker goes away (its state with it) and a fresh one comes back after a while.
  await sleep(1_500);
  await broker.stop();
  await sleep(3_000);
  broker = await startMosquitto();
  siteLink.retarget(brokerPort());
  cloudLink.retarget(brokerPort());
  await site.edge.waitFor(() => site.events('uplink connected').length >= 2, 30_000, 'the edge back on the new broker');

  // 3. A corrupt database: drained first (what an unreadable file held is gone with it), then
  //    killed, its first page overwritten and its WAL lost (else SQLite would read the WAL's newer
  //    copy of that page and never notice), and started again.
  silence(true);
  await site.drained(60_000);
  await site.edge.stop('SIGKILL');
  const lastOfFirstDatabase = lastSeqIn(join(stateDir, 'edge.db'));
  const fd = openSync(join(stateDir, 'edge.db'), 'r+');
  writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 0);
  closeSync(fd);
  rmSync(join(stateDir, 'edge.db-wal'), { force: true });
  silence(false);
  const reborn = site.start();
  await reborn.waitFor((e) => e.msg === 'database failed its integrity check: moved aside, starting a fresh one', 20_000, 'the corrupt file moved aside');

  // 4. The link is cut long enough for the 1 MiB cap to fill: the oldest unsent readings go.
  await reborn.waitFor((e) => e.msg === 'batch acknowledged by the cloud', 30_000, 'a batch through');
  siteLink.cut(25_000);
  await reborn.waitFor((e) => e.msg === 'database at its byte cap: oldest unsent readings dropped', 40_000, 'a drop at the cap');
  await sleep(20_000);

  // 5. Everything left reaches the cloud; then the edge stops cleanly.
  silence(true);
  await site.drained(120_000);
  assert.equal(await site.edge.stop('SIGTERM'), 0, 'SIGTERM ends the edge cleanly');

  const store = ReadingStore.open({ path: join(stateDir, 'edge.db'), siteId, durability: 'FULL', maxBytes: 1024 * 1024, historyMs: 1 }, silentLogger());
  const final = { stats: store.stats(), drops: store.droppedRuns() };
  store.close();

  const messages = (await readWholeTopic(topic)).map(sentReading).filter((m) => m.siteId === siteId);
  const epochStarts = site.events('reading store created').map((e) => Number(e.firstSeq));
  assert.equal(epochStarts.length, 2, 'one database before the corruption, one after');
  const [firstEpoch, secondEpoch] = epochStarts as [number, number];
  const seqs = messages.map((m) => m.seq);

  // Before the corruption: everything was acknowledged, so one unbroken run.
  const before = [...new Set(seqs.filter((seq) => seq < secondEpoch))].sort((a, b) => a - b);
  assert.equal(before[0], firstEpoch, 'the first database starts where it said');
  assert.equal(before[before.length - 1], lastOfFirstDatabase, 'the last reading the first database made reached Kafka');
  assertUnbroken(before, new Set(), 'first database');

  // After: an unbroken run up to the last seq made, with holes exactly where drops were counted.
  const dropped = new Set(final.drops.flatMap((run) => Array.from({ length: run.lastSeq - run.firstSeq + 1 }, (_, i) => run.firstSeq + i)));
  assert.ok(final.stats.dropped > 0, 'the cap was reached');
  assert.equal(dropped.size, final.stats.dropped, 'each dropped reading is in a recorded run');
  const afterwards = [...new Set(seqs.filter((seq) => seq >= secondEpoch))].sort((a, b) => a - b);
  assert.equal(afterwards[afterwards.length - 1], final.stats.lastSeq, 'the last reading made reached Kafka');
  const expected = Array.from({ length: final.stats.lastSeq - secondEpoch + 1 }, (_, i) => secondEpoch + i).filter((seq) => !dropped.has(seq));
  assert.deepEqual(afterwards, expected, 'second database: every seq not dropped, none that was');
  assertUnbroken(afterwards, dropped, 'second database');

  assertDuplicatesAreWholeBatches(messages);
  const heldCopies = messages.filter((m) => m.batchId === held).length;
  const heldSize = new Set(messages.filter((m) => m.batchId === held).map((m) => m.seq)).size;
  assert.ok(heldSize > 0 && heldCopies % heldSize === 0, `batch ${held}, whose ack was held, is in Kafka in whole copies`);
  assert.ok(heldCopies / heldSize >= 2, `batch ${held} was sent again after the kill and is in Kafka twice (${heldCopies / heldSize} copies)`);
  assert.ok(site.lives.length >= 7, 'the edge lived several lives');
  const unique = new Set(seqs).size;
  t.diagnostic(
    `edge lives ${site.lives.length}; kafka messages ${messages.length}, distinct seqs ${unique}, ` +
      `copies of resent batches ${messages.length - unique}; dropped at the cap ${final.stats.dropped} in ${final.drops.length} runs; ` +
      `resends ${site.events('no acknowledgement; sending the batch again').length}; ` +
      `the batch whose ack was held: ${heldCopies / Math.max(1, heldSize)} copies`,
  );
});

/** The last seq a database handed out, read as another process would (WAL included). */
function lastSeqIn(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare<[], { last_seq: number }>('SELECT last_seq FROM sequence').get()?.last_seq ?? 0;
  } finally {
    db.close();
  }
}

function assertUnbroken(sorted: number[], holes: Set<number>, what: string): void {
  for (let i = 1; i < sorted.length; i += 1) {
    const previous = sorted[i - 1] as number;
    const current = sorted[i] as number;
    for (let missing = previous + 1; missing < current; missing += 1) {
      assert.ok(holes.has(missing), `${what}: seq ${missing} is missing and no drop explains it`);
    }
  }
}

/** A seq seen twice is only ever part of the very same batch (same id, same seqs) sent again. */
/** A reading as Kafka holds it: its identity from the value, the batch that carried it from its header. */
interface SentReading {
  partition: number;
  siteId: string;
  seq: number;
  batchId: string;
}

function sentReading(message: TopicMessage): SentReading {
  const reading = JSON.parse(message.value) as Reading;
  return { partition: message.partition, siteId: reading.siteId, seq: reading.seq, batchId: message.headers.batchId ?? '' };
}

function assertDuplicatesAreWholeBatches(messages: SentReading[]): void {
  const batches = new Map<string, Map<string, number[]>>();
  const batchOfSeq = new Map<number, string>();
  for (const message of messages) {
    const { seq, batchId } = message;
    const owner = batchOfSeq.get(seq);
    assert.ok(owner === undefined || owner === batchId, `seq ${seq} appears in batch ${owner} and in batch ${batchId}`);
    batchOfSeq.set(seq, batchId);
    const [first, last] = batchId.split('-').map(Number) as [number, number];
    assert.ok(seq >= first && seq <= last, `seq ${seq} outside its batch ${batchId}`);
    const copies = batches.get(batchId) ?? new Map<string, number[]>();
    batches.set(batchId, copies);
    // Copies are told apart by where they sit in Kafka: each send of a batch is one produce.
    const copyKey = `${message.partition}`;
    const list = copies.get(copyKey) ?? [];
    list.push(seq);
    copies.set(copyKey, list);
  }
  for (const [batchId, copies] of batches) {
    for (const [partition, partitionSeqs] of copies) {
      const counts = new Map<number, number>();
      for (const seq of partitionSeqs) counts.set(seq, (counts.get(seq) ?? 0) + 1);
      const times = new Set(counts.values());
      assert.ok(times.size === 1, `batch ${batchId} in partition ${partition}: every seq must be there equally often (whole copies), got ${[...times].join(', ')}`);
    }
  }
}
