// `npm run bench edge-store`: the edge's SQLite outbox (edge/buffer/reading-store.ts) on a real
// file. Per durability mode (WAL + synchronous NORMAL or FULL) and readings per transaction:
//   insert  — ReadingStore.append(observations), one transaction per batch, as GroupCommit does;
//   ack     — what the uplink does per batch: oldestUnsent → markInFlight → acknowledge(lastSeq);
//   index   — housekeeping once a minute of the readings' time: the history's device index, ten minutes at a time
//   prune   — maintain() step after step once the history window has passed: the DELETE that really removes rows,
//             incremental vacuum and a WAL checkpoint;
// with the bytes each phase made the kernel write (/proc/self/io write_bytes) per reading.
// Readings are realistic aircon polls (11 properties + raw EDTs, ≈630 bytes of JSON).
import { mkdtempSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadingStore, type Durability } from '../edge/buffer/reading-store.js';
import { silentLogger } from '../shared/log.js';
import type { Observation } from '../shared/reading.js';
import { airconBatch, type AirconFleet } from './support/aircon-readings.js';
import { maintainToEnd } from './support/drain-breakdown.js';
import { machineLine, procIo } from './support/proc.js';
import { mib, num, ranged, spread, table, type Spread } from './support/report.js';

const REPETITIONS = Number(process.env.ECHOLAKE_BENCH_REPETITIONS ?? 3);
const SITE_ID = 'bench-store';
const HISTORY_MS = 24 * 3_600_000;
/** A site of 100 aircons polled every 30 s. */
const READINGS_PER_DAY = 100 * 2 * 60 * 24;

interface Case {
  durability: Durability;
  perTransaction: number;
  readings: number;
}

/** Fewer readings where every commit waits for a sync: each case takes seconds, not minutes. */
const CASES: Case[] = [
  { durability: 'NORMAL', perTransaction: 1, readings: 10_000 },
  { durability: 'NORMAL', perTransaction: 100, readings: 100_000 },
  { durability: 'NORMAL', perTransaction: 1000, readings: 100_000 },
  { durability: 'FULL', perTransaction: 1, readings: 3_000 },
  { durability: 'FULL', perTransaction: 100, readings: 100_000 },
  { durability: 'FULL', perTransaction: 1000, readings: 100_000 },
];

interface Run {
  insertPerSecond: number;
  insertBytesPerReading: number;
  ackPerSecond: number;
  ackBytesPerReading: number;
  indexPerSecond: number;
  indexBytesPerReading: number;
  prunePerSecond: number;
  pruneBytesPerReading: number;
  /** Pages in use per stored reading (the row; its history index entry comes later), before pruning. */
  storedBytesPerReading: number;
  /** Database + WAL file sizes after inserting. */
  fileBytes: number;
  walBytes: number;
  jsonBytesPerReading: number;
}

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const fileSize = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

function runCase(c: Case, dir: string): Run {
  const path = join(dir, 'edge.db');
  const store = ReadingStore.open({ path, siteId: SITE_ID, durability: c.durability, maxBytes: 4 * 2 ** 30, historyMs: HISTORY_MS }, silentLogger());
  try {
    const fleet: AirconFleet = { devices: 100, spacingMs: 300, endAt: Date.now(), total: c.readings };
    const batches: Observation[][] = [];
    for (let from = 0; from < c.readings; from += c.perTransaction) batches.push(airconBatch(from, Math.min(c.perTransaction, c.readings - from), fleet));
    gc();

    // Insert: one transaction per batch, as the group commit makes them.
    let io = procIo();
    let started = process.hrtime.bigint();
    for (const batch of batches) store.append(batch);
    const insertSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const insertWritten = procIo().writeBytes - io.writeBytes;
    const afterInsert = store.stats();
    if (afterInsert.backlog !== c.readings) throw new Error(`stored ${afterInsert.backlog} readings, expected ${c.readings}`);
    const fileBytes = fileSize(path);
    const walBytes = fileSize(`${path}-wal`);
    const sample = store.oldestUnsent(100, 2 ** 24);
    const jsonBytesPerReading = sample === undefined ? 0 : sample.bytes / sample.payloads.length;
    gc();

    // Acknowledge: the uplink's store work per batch, batch = readings per transaction.
    io = procIo();
    started = process.hrtime.bigint();
    let acked = 0;
    for (;;) {
      const pending = store.oldestUnsent(c.perTransaction, 2 ** 24);
      if (pending === undefined) break;
      store.markInFlight(pending);
      acked += store.acknowledge(pending.lastSeq);
    }
    const ackSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const ackWritten = procIo().writeBytes - io.writeBytes;
    if (acked !== c.readings || store.stats().backlog !== 0) throw new Error(`acknowledged ${acked} of ${c.readings}; backlog ${store.stats().backlog}`);

    // Index: housekeeping once a minute of the fleet's time, as the edge runs it; the local
    // history's device index takes about ten minutes of readings at a time.
    io = procIo();
    started = process.hrtime.bigint();
    const firstTs = fleet.endAt - (c.readings - 1) * fleet.spacingMs;
    for (let at = firstTs; at <= fleet.endAt + 11 * 60_000; at += 60_000) maintainToEnd(store, at);
    const indexSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const indexWritten = procIo().writeBytes - io.writeBytes;

    // Prune: the history window has passed; maintain() deletes, vacuums and checkpoints.
    io = procIo();
    started = process.hrtime.bigint();
    maintainToEnd(store, Date.now() + HISTORY_MS + 3_600_000);
    const pruneSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const pruneWritten = procIo().writeBytes - io.writeBytes;

    return {
      insertPerSecond: c.readings / insertSeconds,
      insertBytesPerReading: insertWritten / c.readings,
      ackPerSecond: c.readings / ackSeconds,
      ackBytesPerReading: ackWritten / c.readings,
      indexPerSecond: c.readings / indexSeconds,
      indexBytesPerReading: indexWritten / c.readings,
      prunePerSecond: c.readings / pruneSeconds,
      pruneBytesPerReading: pruneWritten / c.readings,
      storedBytesPerReading: afterInsert.databaseBytes / c.readings,
      fileBytes,
      walBytes,
      jsonBytesPerReading,
    };
  } finally {
    store.close();
  }
}

interface CaseResult extends Case {
  insertPerSecond: Spread;
  insertBytesPerReading: Spread;
  ackPerSecond: Spread;
  ackBytesPerReading: Spread;
  indexPerSecond: Spread;
  indexBytesPerReading: Spread;
  prunePerSecond: Spread;
  pruneBytesPerReading: Spread;
  storedBytesPerReading: Spread;
  walBytes: Spread;
  jsonBytesPerReading: number;
}

/** Bytes written per reading over its life: insert, ack, indexing for the history, prune. */
const writtenPerReading = (r: CaseResult): number =>
  r.insertBytesPerReading.median + r.ackBytesPerReading.median + r.indexBytesPerReading.median + r.pruneBytesPerReading.median;

function main(): number {
  const base = mkdtempSync(join(tmpdir(), 'echolake-bench-store-'));
  const fsType = statfsSync(base).type;
  const onTmpfs = fsType === 0x01021994;
  console.log(`machine: ${machineLine()}`);
  console.log(`database folder: ${base} (filesystem magic 0x${fsType.toString(16)}${onTmpfs ? ', tmpfs: NOT a real disk, write figures mean nothing' : ''})`);
  console.log(`repetitions per case: ${REPETITIONS}; figures are median (min–max)\n`);
  const results: CaseResult[] = [];
  let failed = false;
  const runsByCase: Run[][] = CASES.map(() => []);
  try {
    // Repetitions outer, cases inner: a noisy minute on a shared machine then touches every case alike.
    for (let r = 0; r < REPETITIONS; r++) {
      for (const [index, c] of CASES.entries()) {
        const dir = mkdtempSync(join(base, `${c.durability}-${c.perTransaction}-`));
        try {
          runsByCase[index]?.push(runCase(c, dir));
        } catch (err) {
          failed = true;
          console.error(`${c.durability} × ${c.perTransaction}/tx: ${(err as Error).message}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        process.stdout.write('.');
      }
    }
    for (const [index, c] of CASES.entries()) {
      const runs = runsByCase[index] ?? [];
      if (runs.length === 0) continue;
      const of = (pick: (run: Run) => number): Spread => spread(runs.map(pick));
      results.push({
        ...c,
        insertPerSecond: of((r) => r.insertPerSecond),
        insertBytesPerReading: of((r) => r.insertBytesPerReading),
        ackPerSecond: of((r) => r.ackPerSecond),
        ackBytesPerReading: of((r) => r.ackBytesPerReading),
        indexPerSecond: of((r) => r.indexPerSecond),
        indexBytesPerReading: of((r) => r.indexBytesPerReading),
        prunePerSecond: of((r) => r.prunePerSecond),
        pruneBytesPerReading: of((r) => r.pruneBytesPerReading),
        storedBytesPerReading: of((r) => r.storedBytesPerReading),
        walBytes: of((r) => r.walBytes),
        jsonBytesPerReading: Math.round(runs[0]?.jsonBytesPerReading ?? 0),
      });
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  console.log('\n');
  console.log(
    table(
      ['mode / per tx', 'readings', 'insert rows/s', 'insert B written/reading', 'ack rows/s', 'ack B written/reading', 'index B written/reading', 'prune rows/s', 'stored B/reading', 'MB written/day*'],
      results.map((r) => [
        `${r.durability} / ${r.perTransaction}`,
        num(r.readings),
        ranged(r.insertPerSecond),
        ranged(r.insertBytesPerReading),
        ranged(r.ackPerSecond),
        ranged(r.ackBytesPerReading),
        ranged(r.indexBytesPerReading),
        ranged(r.prunePerSecond),
        ranged(r.storedBytesPerReading),
        num((writtenPerReading(r) * READINGS_PER_DAY) / 1e6),
      ]),
    ),
  );
  const json = results[0]?.jsonBytesPerReading ?? 0;
  console.log(`\nreading JSON ≈${json} bytes; WAL after inserting: ${results.map((r) => `${r.durability}/${r.perTransaction} ${num(mib(r.walBytes.max), 1)} MiB`).join(', ')}`);
  console.log('ack = oldestUnsent + markInFlight + acknowledge per batch of the same size; index = housekeeping once a minute of the readings\' time; prune = maintain() past the history window');
  console.log(`* insert + ack + index + prune bytes for ${num(READINGS_PER_DAY)} readings a day (100 aircons polled every 30 s), at that case's transaction size`);
  console.log(
    JSON.stringify({
      bench: 'edge-store',
      machine: machineLine(),
      repetitions: REPETITIONS,
      readingJsonBytes: json,
      results: results.map((r) => ({
        durability: r.durability,
        perTransaction: r.perTransaction,
        readings: r.readings,
        insertRowsPerSecond: r.insertPerSecond,
        insertWriteBytesPerReading: r.insertBytesPerReading,
        ackRowsPerSecond: r.ackPerSecond,
        ackWriteBytesPerReading: r.ackBytesPerReading,
        indexRowsPerSecond: r.indexPerSecond,
        indexWriteBytesPerReading: r.indexBytesPerReading,
        pruneRowsPerSecond: r.prunePerSecond,
        pruneWriteBytesPerReading: r.pruneBytesPerReading,
        storedBytesPerReading: r.storedBytesPerReading,
        walBytes: r.walBytes,
        writeMegabytesPerDay: (writtenPerReading(r) * READINGS_PER_DAY) / 1e6,
      })),
    }),
  );
  return failed || results.length !== CASES.length ? 1 : 0;
}

process.exitCode = main();
