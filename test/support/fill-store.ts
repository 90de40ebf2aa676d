/**
 * Fills a reading store at `path` (argv[2]) with `maxBytes` (argv[3]) as its cap until `count`
 * (argv[4]) readings were appended, then prints what happened as one JSON line. Run on a small
 * file system (a tmpfs in a mount namespace) by the store's integration test.
 */
import { ReadingStore } from '../../edge/buffer/reading-store.js';
import { silentLogger } from '../../shared/log.js';
import { aircon } from './observations.js';

const [path, maxBytes, count] = [process.argv[2] ?? '', Number(process.argv[3]), Number(process.argv[4])];
const store = ReadingStore.open({ path, siteId: 'site-a', durability: 'NORMAL', maxBytes, historyMs: 3_600_000 }, silentLogger());
let appended = 0;
let failure: string | undefined;
for (let i = 0; i < count / 500 && failure === undefined; i++) {
  try {
    appended += store.append(Array.from({ length: 500 }, (_, j) => aircon((i * 500 + j) % 7))).length;
  } catch (err) {
    failure = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`;
  }
}
const stats = store.stats();
store.close();
console.log(JSON.stringify({ appended, failure, dropped: stats.dropped, backlog: stats.backlog }));
