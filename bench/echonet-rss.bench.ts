// `npm run bench echonet-rss`: memory of the controller process with 100 simulated air conditioners.
// Goal (issue #4): RSS under 80 MB after an hour of polling, and no growth.
//
//   A. An hour in compressed time: an hour at the default 30 s interval is 120 poll cycles per
//      device; here they run at 250 ms (120 cycles in 30 s) with a search every 2.5 s instead of
//      every 300 s (the edge's ratio). RSS and heapUsed after two forced collections at the start (after 5 cycles),
//      every 5 cycles, the middle and the end. "No growth": the least-squares slope of heapUsed from
//      cycle 30 on (the first cycles still add compiled code and inline caches) stays under
//      512 KiB per 100 cycles. Anything kept per poll — an observation is ~1 KB — would show as
//      several MiB per 100 cycles; the heap's own settling (±200 KiB) does not. For a finer bound run
//      longer: `--cycles 1440` (12 h at 30 s, 6 minutes).
//   B. The real rate: the edge's defaults (poll every 30 s, search every 300 s) for a few real cycles.
//
// Why both: V8 sizes its young generation by the allocation rate, and 100 devices every 250 ms are
// 400 polls a second, 120 times the real rate. The controller runs under the systemd unit's Node
// flags, as the gateway does, which cap the young generation at 2 × 1 MiB; with Node's defaults
// (ECHOLAKE_BENCH_CHILD_FLAGS= , empty) it grows towards 2 × 16 MiB under A's load, which the real
// rate never asks for.
//
// The controller runs alone in its process as compiled JavaScript (the tsx loader alone would add
// about 40 MB); the baseline row is that process with every module loaded, before the controller.
//
//   node --expose-gc --import tsx bench/echonet-rss.bench.ts [--cycles 120] [--runs 3] [--poll-ms 250]
//        [--real-cycles 4] [--nodes 100] [--base-address 127.0.1.2]
import { type Sample, ControllerProcess, controllerNodeFlags } from './support/echonet-controller-process.js';
import { INTERFACE, type SimProcess, edgeEchonetDefaults, numberFlag, spawnSimulator, stringFlag } from './support/echonet-harness.js';
import { goal, mib, round, roundSpread, showSpread, sleep, spread, table, runBenchmark } from './support/report.js';
import { machine, machineLine } from './support/proc.js';

const NODES = numberFlag('nodes', 100);
const CYCLES = numberFlag('cycles', 120);
const RUNS = numberFlag('runs', 3);
const POLL_MS = numberFlag('poll-ms', 250);
const REAL_CYCLES = numberFlag('real-cycles', 4);
const BASE_ADDRESS = stringFlag('base-address', '127.0.1.2');
const SAMPLE_EVERY_CYCLES = Math.max(1, numberFlag('sample-every', 5));
const EDGE = edgeEchonetDefaults();
const REAL_INTERVAL_MS = EDGE.pollIntervalMs;
/** Poll cycles per search at the edge's defaults (300 s / 30 s). */
const CYCLES_PER_SEARCH = EDGE.searchIntervalMs / EDGE.pollIntervalMs;
const GOAL_BYTES = 80 * 1_000_000; // "80 MB"
/** heapUsed drifting less than this per 100 cycles (after warm-up) counts as flat. */
const FLAT_BYTES_PER_100_CYCLES = 512 * 1024;
/** Cycles after which the heap is warm (compiled code, inline caches); the slope starts here. */
const SETTLED_CYCLES = 30;
/** Fewer cycles than this after warm-up say nothing about growth. */
const JUDGED_CYCLES = 60;

interface Plan {
  readonly pollMs: number;
  readonly cycles: number;
  readonly warmCycles: number;
  readonly sampleEvery: number;
}

interface Point {
  readonly label: string;
  readonly cycles: number;
  readonly sample: Sample;
}

interface Run {
  readonly points: Point[];
  readonly baseline: Sample;
  readonly rssStart: number;
  readonly rssEnd: number;
  readonly heapStart: number;
  readonly heapEnd: number;
  /** Least-squares slope of heapUsed over cycles from SETTLED_CYCLES on, bytes per 100 cycles. */
  readonly heapSlopePer100: number;
  readonly peak: number;
  readonly searches: number;
  readonly timeouts: number;
  readonly seconds: number;
}

function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

async function oneRun(sim: SimProcess, plan: Plan, name: string): Promise<Run> {
  const controller = await ControllerProcess.spawn();
  try {
    const baseline = await controller.sample(true);
    const startedAt = Date.now();
    await controller.start(
      { interfaceAddress: INTERFACE, port: sim.port, pollIntervalMs: plan.pollMs, searchIntervalMs: CYCLES_PER_SEARCH * plan.pollMs },
      sim.nodes.map((n) => n.deviceId),
    );
    const discovered = await controller.waitDiscovered(30_000);
    if (!discovered.complete) throw new Error(`only ${discovered.known}/${discovered.expected} devices discovered`);
    const points: Point[] = [];
    const cyclesOf = (s: Sample): number => s.pollReadings / NODES;
    let next = plan.warmCycles;
    const deadline = Date.now() + plan.cycles * plan.pollMs * 4 + 60_000;
    for (;;) {
      const probe = await controller.sample();
      if (cyclesOf(probe) >= next) {
        const sample = await controller.sample(true);
        const cycles = cyclesOf(sample);
        points.push({ label: points.length === 0 ? 'start' : next >= plan.cycles ? 'end' : '', cycles, sample });
        if (process.stdout.isTTY) process.stdout.write(`\r${name}: ${Math.floor(cycles)}/${plan.cycles} cycles, RSS ${mib(sample.rss).toFixed(1)} MiB   `);
        if (next >= plan.cycles) break;
        next = Math.min(plan.cycles, (Math.floor(next / plan.sampleEvery) + 1) * plan.sampleEvery);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`only ${cyclesOf(probe).toFixed(1)} of ${plan.cycles} cycles before the deadline`);
      await sleep(Math.min(plan.pollMs, 100));
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
    const middle = points.reduce((best, p) => (Math.abs(p.cycles - plan.cycles / 2) < Math.abs(best.cycles - plan.cycles / 2) ? p : best));
    if (middle.label === '') points[points.indexOf(middle)] = { ...middle, label: 'middle' };
    const first = points[0] as Point;
    const last = points.at(-1) as Point;
    const settled = points.filter((p) => p.cycles >= SETTLED_CYCLES);
    return {
      points,
      baseline,
      rssStart: first.sample.rss,
      rssEnd: last.sample.rss,
      heapStart: first.sample.heapUsed,
      heapEnd: last.sample.heapUsed,
      heapSlopePer100: slope(settled.map((p) => [p.cycles, p.sample.heapUsed])) * 100,
      peak: last.sample.vmHwm ?? Math.max(...points.map((p) => p.sample.rss)),
      searches: last.sample.searches,
      timeouts: last.sample.requestTimeouts,
      seconds: (Date.now() - startedAt) / 1000,
    };
  } finally {
    await controller.exit();
  }
}

const showMib = (bytes: number): string => mib(bytes).toFixed(2);
const showKib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

function printRun(title: string, run: Run, allPoints: boolean): void {
  console.log();
  console.log(`${title} (${run.seconds.toFixed(0)} s, ${run.searches} searches, ${run.timeouts} timeouts); MiB after forced GC:`);
  const row = (label: string, cycles: string, s: Sample): string[] => [label, cycles, showMib(s.rss), showMib(s.heapUsed), showMib(s.heapTotal), showMib(s.external)];
  const rows = [
    row('baseline (modules loaded, no controller)', '-', run.baseline),
    ...run.points.filter((p) => allPoints || p.label !== '').map((p) => row(p.label, p.cycles.toFixed(1), p.sample)),
  ];
  console.log(table(['point', 'cycles', 'RSS', 'heapUsed', 'heapTotal', 'external'], rows));
  console.log(
    `start → end: RSS ${showKib(run.rssEnd - run.rssStart)}, heapUsed ${showKib(run.heapEnd - run.heapStart)}; ` +
      `peak RSS (VmHWM) ${showMib(run.peak)} MiB = ${mb(run.peak)}` +
      (run.points.some((p) => p.cycles >= SETTLED_CYCLES) ? `; heapUsed slope from cycle ${SETTLED_CYCLES} on: ${showKib(run.heapSlopePer100)} / 100 cycles` : ''),
  );
}

async function main(): Promise<number> {
  const host = machine();
  console.log(`machine: ${machineLine(host)}`);
  const compressed: Plan = { pollMs: POLL_MS, cycles: CYCLES, warmCycles: 5, sampleEvery: SAMPLE_EVERY_CYCLES };
  const real: Plan = { pollMs: REAL_INTERVAL_MS, cycles: REAL_CYCLES + 1, warmCycles: 1, sampleEvery: 1 };
  console.log(
    `${NODES} simulated air conditioners. A: ${CYCLES} poll cycles per device at ${POLL_MS} ms (= ${((CYCLES * REAL_INTERVAL_MS) / 3_600_000).toFixed(1)} h at 30 s), ${RUNS} runs` +
      (REAL_CYCLES > 0 ? `; B: ${REAL_CYCLES} real cycles at 30 s` : ''),
  );
  console.log(`controller process flags: ${controllerNodeFlags().join(' ') || "(Node's defaults)"}`);
  const sim = await spawnSimulator({ nodes: NODES, baseAddress: BASE_ADDRESS });
  console.log(`simulator pid ${sim.pid}, port ${sim.port}: ${sim.nodes.length} nodes up`);
  const runs: Run[] = [];
  let realRun: Run | undefined;
  try {
    for (let run = 1; run <= RUNS; run++) runs.push(await oneRun(sim, compressed, `A run ${run}`));
    if (REAL_CYCLES > 0) realRun = await oneRun(sim, real, 'B');
  } finally {
    await sim.stop();
  }

  for (const [index, run] of runs.entries()) printRun(`A run ${index + 1}: ${CYCLES} cycles at ${POLL_MS} ms`, run, runs.length === 1);
  if (realRun) printRun(`B: ${REAL_CYCLES} cycles at 30 s (first sample after 1 cycle)`, realRun, true);

  const rssEnd = spread(runs.map((r) => mib(r.rssEnd)));
  const peak = spread(runs.map((r) => mib(r.peak)));
  const heapStart = spread(runs.map((r) => mib(r.heapStart)));
  const heapMiddle = spread(runs.map((r) => mib(r.points.find((p) => p.label === 'middle')?.sample.heapUsed ?? Number.NaN)));
  const heapEnd = spread(runs.map((r) => mib(r.heapEnd)));
  const heapSlope = spread(runs.map((r) => r.heapSlopePer100 / 1024));
  const baselineRss = spread(runs.map((r) => mib(r.baseline.rss)));
  const judged = CYCLES - SETTLED_CYCLES >= JUDGED_CYCLES;
  const flat = runs.every((r) => r.heapSlopePer100 < FLAT_BYTES_PER_100_CYCLES);
  const compressedUnder = runs.every((r) => r.peak < GOAL_BYTES);
  const realUnder = realRun === undefined ? undefined : realRun.peak < GOAL_BYTES;
  console.log();
  console.log(`A (${CYCLES} cycles at ${POLL_MS} ms = ${Math.round((NODES * 1000) / POLL_MS)} polls/s), min / median / max over ${runs.length} runs:`);
  console.log(`  RSS at the end ${showSpread(rssEnd, 2, ' MiB')}; peak ${showSpread(peak, 2, ' MiB')}; baseline ${showSpread(baselineRss, 2, ' MiB')}`);
  console.log(`  heapUsed start ${showSpread(heapStart, 2, ' MiB')}, middle ${showSpread(heapMiddle, 2, ' MiB')}, end ${showSpread(heapEnd, 2, ' MiB')}`);
  console.log(`  heapUsed slope after warm-up ${showSpread(heapSlope, 1, ' KiB / 100 cycles')}`);
  if (realRun) {
    console.log(`B (30 s, the real rate): RSS at the end ${showMib(realRun.rssEnd)} MiB, peak ${showMib(realRun.peak)} MiB (${mb(realRun.peak)}), heapUsed ${showMib(realRun.heapEnd)} MiB`);
  }
  const growthVerdict = judged ? goal(flat) : `not judged (${CYCLES} cycles; needs ${SETTLED_CYCLES + JUDGED_CYCLES} or more)`;
  console.log(
    `goal: RSS under 80 MB at the real rate: ${realUnder === undefined ? 'not measured (--real-cycles 0)' : goal(realUnder)}; ` +
      `under the compressed load (${Math.round(REAL_INTERVAL_MS / POLL_MS)} times the real rate): ${goal(compressedUnder)}; ` +
      `no growth (heapUsed slope under ${FLAT_BYTES_PER_100_CYCLES / 1024} KiB / 100 cycles): ${growthVerdict}`,
  );
  console.log(
    JSON.stringify({
      bench: 'echonet-rss',
      machine: host,
      nodes: NODES,
      childFlags: controllerNodeFlags().join(' '),
      compressed: {
        cycles: CYCLES,
        pollMs: POLL_MS,
        runs: runs.length,
        rssEndMiB: roundSpread(rssEnd, 2),
        rssPeakMiB: roundSpread(peak, 2),
        baselineRssMiB: roundSpread(baselineRss, 2),
        heapUsedMiB: { start: roundSpread(heapStart, 3), middle: roundSpread(heapMiddle, 3), end: roundSpread(heapEnd, 3) },
        heapSlopeKiBPer100Cycles: roundSpread(heapSlope, 1),
        searches: runs.map((r) => r.searches),
        timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
        points: runs.map((r) => r.points.map((p) => [round(p.cycles, 1), round(mib(p.sample.rss), 2), round(mib(p.sample.heapUsed), 3)])),
      },
      real:
        realRun === undefined
          ? null
          : {
              cycles: REAL_CYCLES,
              rssEndMiB: round(mib(realRun.rssEnd), 2),
              rssPeakMiB: round(mib(realRun.peak), 2),
              heapUsedEndMiB: round(mib(realRun.heapEnd), 3),
              baselineRssMiB: round(mib(realRun.baseline.rss), 2),
            },
      goals: { rssUnder80MB: realUnder ?? null, rssUnder80MBCompressed: compressedUnder, noGrowth: judged ? flat : null },
    }),
  );
  return 0;
}

runBenchmark('echonet-rss', main);
