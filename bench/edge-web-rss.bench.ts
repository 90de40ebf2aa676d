// `npm run bench edge-web-rss`: the edge's memory with its status page open and updating.
// Goal (issue 14): RSS within the edge's 80 MB with the page open.
//
// The edge runs as installed (the build, `npm run build` first, under the systemd unit's Node
// flags) with simulated air conditioners and Mosquitto from the test-services harness. RSS of the
// edge's pid is sampled every 2 s:
//   A. without a browser, for --idle-s seconds (the baseline: the edge doing its job);
//   B. with Debian's chromium holding the status page (a request pair every 2 s) and a device page
//      (its history chart, every 30 s) open, for --open-s seconds.
// The page's own files are read once at start and kept in memory (~90 KB).
//
//   node --import tsx bench/edge-web-rss.bench.ts [--nodes 10] [--poll-ms 5000] [--idle-s 60] [--open-s 180]
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV_MQTT_URL } from '../test/services/index.js';
import { launchBrowser, openPage } from '../test/support/browser.js';
import { Deployable } from '../test/support/deployable.js';
import { unitNodeFlags } from '../test/support/edge-node-flags.js';
import { INTERFACE, ROOT, numberFlag, spawnSimulator } from './support/echonet-harness.js';
import { rssBytes, machineLine } from './support/proc.js';
import { goal, mib, round, runBenchmark, sleep, spread, table, showSpread } from './support/report.js';

const NODES = numberFlag('nodes', 10);
const POLL_MS = numberFlag('poll-ms', 5_000);
const IDLE_S = numberFlag('idle-s', 60);
const OPEN_S = numberFlag('open-s', 180);
const SAMPLE_MS = 2_000;
const GOAL_BYTES = 80 * 1_000_000; // "80 MB"

async function sampleRss(pid: number, seconds: number): Promise<number[]> {
  const samples: number[] = [];
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const rss = rssBytes(pid);
    if (rss === undefined) throw new Error(`the edge (pid ${pid}) is gone`);
    samples.push(rss);
    await sleep(SAMPLE_MS);
  }
  return samples;
}

async function main(): Promise<number> {
  const mqttUrl = process.env[ENV_MQTT_URL];
  if (mqttUrl === undefined) throw new Error(`${ENV_MQTT_URL} is not set: run through \`npm run bench edge-web-rss\` (the harness starts Mosquitto)`);
  console.log(`machine: ${machineLine()}`);
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const flags = unitNodeFlags();
  console.log(`edge: node ${flags.join(' ')} dist/edge/main.js (the build); ${NODES} simulated aircons, polled every ${POLL_MS} ms`);
  const sim = await spawnSimulator({ nodes: NODES, baseAddress: '127.0.1.2' });
  const edge = new Deployable('edge', 'dist/edge/main.js', [], {
    LOG_LEVEL: 'info',
    ECHOLAKE_EDGE_SITE_ID: 'bench-web',
    ECHOLAKE_EDGE_STATE_DIR: mkdtempSync(join(tmpdir(), 'echolake-bench-web-')),
    ECHOLAKE_EDGE_ECHONET__INTERFACE: INTERFACE,
    ECHOLAKE_EDGE_ECHONET__PORT: String(sim.port),
    ECHOLAKE_EDGE_ECHONET__POLL_INTERVAL_MS: String(POLL_MS),
    ECHOLAKE_EDGE_API__HOST: '127.0.0.1',
    ECHOLAKE_EDGE_API__PORT: '0',
    ECHOLAKE_EDGE_UPLINK__URL: mqttUrl,
  }, flags).retainAtMost(1000);
  const browser = await launchBrowser();
  try {
    const api = String((await edge.waitFor((e) => e.msg === 'local API listening', 30_000, 'the local API')).url);
    const pid = edge.pid;
    if (pid === undefined) throw new Error('the edge has no pid');
    const idle = await sampleRss(pid, IDLE_S);

    const status = await openPage(browser, { width: 390, height: 844 });
    await status.page.goto(api);
    await status.page.locator('tr[data-device]').first().waitFor({ timeout: 60_000 });
    const device = await openPage(browser, { width: 1280, height: 900 });
    await device.page.goto(api);
    await device.page.locator('tr[data-device] a').first().click();
    await device.page.locator('[data-testid="properties"]').waitFor();
    const open = await sampleRss(pid, OPEN_S);
    const problems = [...status.problems, ...device.problems];

    const rows = [
      ['A. no browser', `${IDLE_S} s`, showSpread(spread(idle.map(mib)), 1, ' MiB'), `${round(Math.max(...idle) / 1e6, 1)} MB`],
      ['B. status page + device page open', `${OPEN_S} s`, showSpread(spread(open.map(mib)), 1, ' MiB'), `${round(Math.max(...open) / 1e6, 1)} MB`],
    ];
    console.log(table(['phase', 'for', 'RSS min / median / max', 'RSS max'], rows));
    const met = Math.max(...open) <= GOAL_BYTES;
    console.log(`goal: edge RSS ≤ 80 MB with the page open: ${goal(met)}`);
    if (problems.length > 0) console.log(`page problems: ${problems.join('; ')}`);
    return met && problems.length === 0 ? 0 : 1;
  } finally {
    await browser.close();
    await edge.stop();
    await sim.stop();
  }
}

runBenchmark('edge-web-rss', main);
