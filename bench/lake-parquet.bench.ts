// `npm run bench lake-parquet`: the Parquet writers side by side on the readings table's real schema
// (22 data columns, realistic aircon readings): parquetjs-lite (the writer the design first named)
// and hyparquet-writer (what the lake ships). Per writer: rows/s, file size, the longest the event
// loop was blocked, and a read-back with pyarrow of every row's seq, ts (microseconds, UTC) and a
// double column, so a fast but wrong writer shows as wrong.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import parquet, { type ParquetPrimitive } from 'parquetjs-lite';
import { encodeParquet } from '../cloud/lake/parquet/encode.js';
import { READINGS_TABLE, readingBatches, type LakeReading } from '../cloud/lake/tables/readings.js';
import { dataColumns, type CellValue, type Column } from '../cloud/lake/tables/schema.js';
import { airconObservation } from './support/aircon-readings.js';
import { machineLine } from './support/proc.js';
import { mib, num, runBenchmark, table } from './support/report.js';

const ROWS = Number(process.env.ECHOLAKE_BENCH_ROWS ?? 200_000);
const REPETITIONS = Number(process.env.ECHOLAKE_BENCH_REPETITIONS ?? 3);
const run = promisify(execFile);

function readings(count: number): Array<{ reading: LakeReading; position: { partition: number; offset: string } }> {
  const fleet = { devices: 500, spacingMs: 60, endAt: Date.UTC(2026, 10, 23, 12), total: count };
  return Array.from({ length: count }, (_, i) => {
    const observation = airconObservation(i, fleet);
    // Microseconds in every ts, as the contract allows: a writer that keeps only ms shows in the check.
    const ts = `${observation.ts.slice(0, 23)}${String(i % 1000).padStart(3, '0')}Z`;
    return { reading: { v: 1, siteId: `site-${i % 5}`, seq: 5_000_000_000 + i, ...observation, ts }, position: { partition: 0, offset: String(i) } };
  });
}

const PARQUETJS_TYPE: Record<string, ParquetPrimitive> = { string: 'UTF8', long: 'INT64', integer: 'INT32', double: 'DOUBLE', boolean: 'BOOLEAN', timestamp: 'TIMESTAMP_MICROS' };

/** parquetjs-lite as the lake used it: row by row, one row group, data page v1, snappy; Dates (ms) for timestamps. */
async function parquetjsEncode(columns: Column[], data: Record<string, CellValue[]>, rows: number): Promise<Buffer> {
  const schema = new parquet.ParquetSchema(
    Object.fromEntries(columns.map((c) => [c.name, { type: PARQUETJS_TYPE[c.type] ?? 'UTF8', optional: c.nullable, compression: 'SNAPPY' as const }])),
  );
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const writer = await parquet.ParquetWriter.openStream(schema, sink, { rowGroupSize: rows, useDataPageV2: false });
  for (let i = 0; i < rows; i += 1) {
    const row: Record<string, unknown> = {};
    for (const c of columns) {
      const value = data[c.name]?.[i] ?? null;
      if (value === null) continue;
      row[c.name] = c.type === 'timestamp' ? new Date(Number(value) / 1000) : typeof value === 'bigint' ? Number(value) : value;
    }
    await writer.appendRow(row);
  }
  await writer.close();
  return Buffer.concat(chunks);
}

/** The longest stretch the event loop could not run a timer, while `work` ran. */
async function withBlocking<T>(work: () => Promise<T>): Promise<{ result: T; maxBlockMs: number }> {
  let last = performance.now();
  let maxBlockMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxBlockMs = Math.max(maxBlockMs, now - last);
    last = now;
  }, 5);
  try {
    const result = await work();
    await new Promise((resolve) => setTimeout(resolve, 10));
    return { result, maxBlockMs };
  } finally {
    clearInterval(timer);
  }
}

async function check(file: string, expected: Array<{ seq: number; tsMicros: string; humidity: number | null }>): Promise<string> {
  const script = `
import json, sys, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
ts = t.column("ts")
print(json.dumps({"type": str(ts.type), "seq": t.column("seq").to_pylist(), "ts": [str(v) for v in ts.cast("int64").to_pylist()], "humidity": t.column("humidity").to_pylist()}))`;
  const python = process.env.ECHOLAKE_TEST_PYTHON;
  if (python === undefined) throw new Error('ECHOLAKE_TEST_PYTHON is not set: run through `npm run bench` (it starts the services)');
  const { stdout } = await run(python, ['-c', script, file], { maxBuffer: 512 * 1024 * 1024 });
  const back = JSON.parse(stdout) as { type: string; seq: number[]; ts: string[]; humidity: Array<number | null> };
  const wrong = expected.findIndex((row, i) => back.seq[i] !== row.seq || back.ts[i] !== row.tsMicros || back.humidity[i] !== row.humidity);
  return wrong === -1 ? `all ${expected.length} rows right, ${back.type}` : `row ${wrong} WRONG (seq ${back.seq[wrong]}, ts ${back.ts[wrong]} vs ${expected[wrong]?.tsMicros}), ${back.type}`;
}

async function main(): Promise<number> {
  console.log(machineLine());
  const [partition] = readingBatches(readings(ROWS));
  if (partition === undefined) throw new Error('no rows');
  const columns = dataColumns(READINGS_TABLE);
  const data = partition.batch.columns;
  const expected = Array.from({ length: ROWS }, (_, i) => ({
    seq: Number(data.seq?.[i]),
    tsMicros: String(data.ts?.[i]),
    humidity: (data.humidity?.[i] as number | null) ?? null,
  }));
  const dir = mkdtempSync(join(tmpdir(), 'echolake-bench-parquet-'));
  const writers: Record<string, () => Promise<Buffer>> = {
    'parquetjs-lite 0.8.7': () => parquetjsEncode(columns, data, ROWS),
    'hyparquet-writer 0.17.0': () => Promise.resolve(encodeParquet(columns, data, ROWS).body),
  };
  const rows: string[][] = [];
  for (const [name, encode] of Object.entries(writers)) {
    const rates: number[] = [];
    let body: Buffer = Buffer.alloc(0);
    let blocked = 0;
    for (let r = 0; r < REPETITIONS; r += 1) {
      globalThis.gc?.();
      const started = performance.now();
      const { result, maxBlockMs } = await withBlocking(encode);
      rates.push(ROWS / ((performance.now() - started) / 1000));
      body = result;
      blocked = Math.max(blocked, maxBlockMs);
    }
    const file = join(dir, `${name.split(' ')[0] ?? 'x'}.parquet`);
    writeFileSync(file, body);
    rates.sort((a, b) => a - b);
    rows.push([name, `${num(rates[Math.floor(rates.length / 2)] ?? 0, 0)} (${num(rates[0] ?? 0, 0)}–${num(rates.at(-1) ?? 0, 0)})`, num(mib(body.length), 2), num(blocked, 0), await check(file, expected)]);
  }
  console.log(`\n${ROWS.toLocaleString('en')} readings (one date partition), ${REPETITIONS} runs each, snappy:\n`);
  console.log(table(['writer', 'rows/s median (min–max)', 'MiB', 'longest event-loop block ms', 'pyarrow read-back'], rows));
  return 0;
}

runBenchmark('lake-parquet', main);
