// `npm run bench sharing-query`: one recipient's concurrent Delta Sharing queries on a table of many
// files, each client reading slowly (it takes the first chunk, then stops reading for a while): how
// much the server's heap grows while the answers are in flight, and how fast they stream when read.
// The table is one commit of add actions on a local folder (the query lists files; nothing reads them).
import { mkdtempSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Registry } from 'prom-client';
import { loadCloudConfig } from '../cloud/config.js';
import { createCloudApp } from '../cloud/http/server.js';
import { DeltaTable } from '../cloud/lake/delta/table.js';
import { LocalObjectStore } from '../cloud/lake/storage/local-store.js';
import { READINGS_TABLE } from '../cloud/lake/tables/readings.js';
import { Catalog } from '../cloud/sharing/catalog.js';
import { issueToken, RecipientDirectory } from '../cloud/sharing/recipients.js';
import { sharingRoutes } from '../cloud/sharing/routes.js';
import { UrlSigner } from '../cloud/sharing/signed-url.js';
import { SharedTables } from '../cloud/sharing/tables.js';
import { silentLogger } from '../shared/log.js';
import { RepeatedWarnings } from '../shared/repeated-warnings.js';
import { machineLine } from './support/proc.js';
import { mib, num, runBenchmark, sleep, table } from './support/report.js';

const FILES = Number(process.env.ECHOLAKE_BENCH_SHARED_FILES ?? 100_000);
const CONCURRENT = Number(process.env.ECHOLAKE_BENCH_SHARING_QUERIES ?? 8);
/** How long the clients hold their answers unread while the heap is sampled. */
const HOLD_MS = 3_000;

async function makeTable(root: string): Promise<void> {
  const table = await DeltaTable.open(new LocalObjectStore(root), READINGS_TABLE, silentLogger(), 'bench');
  const adds = Array.from({ length: FILES }, (_, i) => {
    const stats = JSON.stringify({ numRecords: 5000, minValues: { seq: i * 5000, siteId: 's1' }, maxValues: { seq: i * 5000 + 4999, siteId: 's9' }, nullCount: { seq: 0 } });
    return { add: { path: `date=2026-11-23/part-00000-${i}-c000.snappy.parquet`, partitionValues: { date: '2026-11-23' }, size: 40_000_000, modificationTime: i, dataChange: true, stats } };
  });
  await table.commit(adds, { operation: 'WRITE' });
}

/** A query whose response is paused after its first chunk; `rest()` reads the remainder and counts it. */
function slowQuery(url: string, token: string): Promise<{ response: IncomingMessage; firstBytes: number; rest: () => Promise<number> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (response) => {
      response.once('data', (chunk: Buffer) => {
        response.pause();
        const rest = () =>
          new Promise<number>((done, failed) => {
            let bytes = chunk.length;
            response.on('data', (more: Buffer) => (bytes += more.length));
            response.on('end', () => done(bytes));
            response.on('error', failed);
            response.resume();
          });
        resolve({ response, firstBytes: chunk.length, rest });
      });
    });
    req.on('error', reject);
    req.end('{}');
  });
}

async function main(): Promise<number> {
  console.log(machineLine());
  const dir = mkdtempSync(join(tmpdir(), 'echolake-bench-sharing-'));
  const lakeRoot = join(dir, 'lake');
  const made = performance.now();
  await makeTable(join(lakeRoot, 'readings'));
  console.log(`made a table of ${FILES.toLocaleString('en')} files in ${num((performance.now() - made) / 1000, 1)} s`);

  const shares = [{ name: 'plant', schemas: [{ name: 'lake', tables: [{ name: 'readings', table: 'readings' }] }] }];
  const base = loadCloudConfig(undefined, {});
  const recipientsFile = join(dir, 'recipients.yaml');
  const token = issueToken(recipientsFile, 'analyst', { shares: ['plant'], expiresAt: new Date(Date.now() + 86_400_000) }).token;
  const app = createCloudApp(base.api, 'bench', silentLogger());
  const signer = new UrlSigner('bench-key');
  const tables = new SharedTables({ lakeRoot, s3: base.lake.s3, s3PublicEndpoint: '', signer, urlExpirySeconds: 3600, prefix: '/ds' });
  const refused = new Counter({ name: 'refused', help: 'refused', labelNames: ['reason'], registers: [new Registry()] });
  await app.register(sharingRoutes, {
    prefix: '/ds',
    config: { ...base.sharing, shares },
    catalog: new Catalog(shares),
    recipients: new RecipientDirectory(recipientsFile, silentLogger()),
    tables,
    signer,
    refused,
    warnings: new RepeatedWarnings(silentLogger(), 60_000),
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `${address}/ds/shares/plant/schemas/lake/tables/readings/query`;
  try {
    // One query read whole first: the table's snapshot is loaded and cached, as on a server in use.
    const warm = await slowQuery(url, token);
    const answerBytes = await warm.rest();
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;

    let heapPeak = heapBefore;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      const { heapUsed, rss } = process.memoryUsage();
      heapPeak = Math.max(heapPeak, heapUsed);
      rssPeak = Math.max(rssPeak, rss);
    }, 20);
    const started = performance.now();
    const held = await Promise.all(Array.from({ length: CONCURRENT }, () => slowQuery(url, token)));
    await sleep(HOLD_MS);
    const resumed = performance.now();
    const bytes = await Promise.all(held.map((query) => query.rest()));
    const finished = performance.now();
    clearInterval(sampler);
    if (bytes.some((b) => b !== answerBytes)) throw new Error(`answers of ${bytes.join(', ')} bytes, expected ${answerBytes} each`);

    console.log(`\n${CONCURRENT} concurrent queries of ${FILES.toLocaleString('en')} files (${num(mib(answerBytes), 1)} MiB of NDJSON each), held unread ${HOLD_MS} ms then read:\n`);
    console.log(
      table(
        ['what', 'value'],
        [
          ['heap growth at peak (MiB)', num(mib(heapPeak - heapBefore), 0)],
          ['RSS growth at peak (MiB)', num(mib(rssPeak - rssBefore), 0)],
          ['first chunks of all answers (ms)', num(resumed - started - HOLD_MS, 0)],
          ['all answers read, after resume (ms)', num(finished - resumed, 0)],
          ['file lines per second, all answers', num((CONCURRENT * FILES) / ((finished - resumed) / 1000), 0)],
        ],
      ),
    );
  } finally {
    await app.close();
  }
  return 0;
}

runBenchmark('sharing-query', main);
