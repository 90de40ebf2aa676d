// `npm run bench echonet-poll`: a poll cycle of 100 simulated air conditioners × 10 properties.
// Goals (issue #4): one Get frame per device per cycle where the device allows it, and under 2 % of
// one core at the default 30 s interval.
//
// The units run in the echolake-sim process, the controller alone in another (compiled JavaScript,
// under the systemd unit's Node flags); CPU is the controller process's own (getrusage: every
// thread, GC included).
//
//   A. Short interval (default 1 s) with a search every ten cycles, as the edge's defaults have it
//      (poll every 30 s, search every 300 s): windows of 10 s, each about ten cycles of all devices.
//      Per cycle: controller CPU, frames sent per device (searches included), Get-to-reading time
//      per device, and how many devices' cycles begin in the busiest 20 ms (the pacing: devices keep
//      the staggered phases of their first polls). Share at 30 s = CPU per cycle / 30 s.
//   B. Directly at the edge's defaults (poll every 30 s, search every 300 s): CPU over ten real 30 s
//      cycles, so that one search falls inside.
//
//   node --expose-gc --import tsx bench/echonet-poll.bench.ts [--nodes 100] [--interval-ms 1000]
//        [--windows 5] [--window-s 10] [--direct-cycles 10] [--base-address 127.0.1.2]
import { FIRST_POLL_STEP_MS } from '../edge/echonet/poller.js';
import { type Sample, type TimingRecords, ControllerProcess, controllerNodeFlags } from './support/echonet-controller-process.js';
import { INTERFACE, type SimProcess, edgeEchonetDefaults, numberFlag, spawnSimulator, stringFlag } from './support/echonet-harness.js';
import { type Spread, goal, quantile, round, roundSpread, showSpread, sleep, spread, table, runBenchmark } from './support/report.js';
import { machine, machineLine } from './support/proc.js';

const NODES = numberFlag('nodes', 100);
const INTERVAL_MS = numberFlag('interval-ms', 1_000);
const WINDOWS = numberFlag('windows', 5);
const WINDOW_S = numberFlag('window-s', 10);
const DIRECT_CYCLES = numberFlag('direct-cycles', 10);
const BASE_ADDRESS = stringFlag('base-address', '127.0.1.2');
const EDGE = edgeEchonetDefaults();
const DEFAULT_INTERVAL_MS = EDGE.pollIntervalMs;
const CYCLES_PER_SEARCH = EDGE.searchIntervalMs / EDGE.pollIntervalMs;
/** The window the busiest burst of cycle starts is counted in: the first polls' stagger step. */
const BURST_WINDOW_MS = FIRST_POLL_STEP_MS;
const PROPERTIES = 10;
const GOAL_SHARE = 0.02;

const cpuMs = (from: Sample, to: Sample): number => (to.cpuUserUs - from.cpuUserUs + to.cpuSystemUs - from.cpuSystemUs) / 1000;

interface Window {
  readonly cpuMs: number;
  /** Share of the CPU time spent in the kernel (sockets, timers). */
  readonly systemShare: number;
  readonly framesSent: number;
  readonly wallMs: number;
  readonly deviceCycles: number;
  readonly cpuMsPerCycle: number;
  readonly framesSentPerDeviceCycle: number;
  readonly framesReceivedPerDeviceCycle: number;
  readonly timeouts: number;
  readonly searches: number;
  readonly eventLoopUtilisation: number;
  readonly simCpuMs: number | undefined;
}

function windowOf(from: Sample, to: Sample, simCpuMs: number | undefined): Window {
  const deviceCycles = to.pollReadings - from.pollReadings;
  const cpu = cpuMs(from, to);
  const active = to.eluActiveMs - from.eluActiveMs;
  const idle = to.eluIdleMs - from.eluIdleMs;
  return {
    cpuMs: cpu,
    systemShare: (to.cpuSystemUs - from.cpuSystemUs) / 1000 / cpu,
    framesSent: to.framesSent - from.framesSent,
    wallMs: to.at - from.at,
    deviceCycles,
    cpuMsPerCycle: (cpu / deviceCycles) * NODES,
    framesSentPerDeviceCycle: (to.framesSent - from.framesSent) / deviceCycles,
    framesReceivedPerDeviceCycle: (to.framesReceived - from.framesReceived) / deviceCycles,
    timeouts: to.requestTimeouts - from.requestTimeouts,
    searches: to.searches - from.searches,
    eventLoopUtilisation: active / (active + idle),
    simCpuMs,
  };
}

async function startMeasured(sim: SimProcess, options: { pollIntervalMs: number; searchIntervalMs?: number }): Promise<ControllerProcess> {
  const controller = await ControllerProcess.spawn();
  await controller.start({ interfaceAddress: INTERFACE, port: sim.port, ...options }, sim.nodes.map((n) => n.deviceId));
  const discovered = await controller.waitDiscovered(30_000);
  if (!discovered.complete) {
    await controller.exit();
    throw new Error(`only ${discovered.known}/${discovered.expected} devices discovered; missing ${discovered.missing.join(', ')}`);
  }
  return controller;
}

async function waitForReadings(controller: ControllerProcess, atLeast: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await controller.sample()).pollReadings < atLeast) {
    if (Date.now() > deadline) throw new Error(`fewer than ${atLeast} poll readings after ${timeoutMs} ms`);
    await sleep(50);
  }
}

interface CycleTiming {
  /** Get of a cycle sent → the device's reading emitted, ms, per device and cycle. */
  readonly perDevice: { p50: number; p95: number; max: number; n: number };
  /** The most device cycles that began within BURST_WINDOW_MS of each other. */
  readonly busiestBurst: number;
}

/** The most of the sorted `times` that fall within `windowMs` of each other. */
function busiest(times: readonly number[], windowMs: number): number {
  let most = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

function cycleTiming(records: TimingRecords): CycleTiming {
  const all = Object.values(records).flat();
  const latencies = all.map(([start, end]) => end - start).sort((a, b) => a - b);
  return {
    perDevice: { p50: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), max: latencies.at(-1) ?? Number.NaN, n: latencies.length },
    busiestBurst: busiest(all.map(([start]) => start).sort((a, b) => a - b), BURST_WINDOW_MS),
  };
}

async function phaseShort(sim: SimProcess): Promise<{ windows: Window[]; timing: CycleTiming }> {
  const controller = await startMeasured(sim, { pollIntervalMs: INTERVAL_MS, searchIntervalMs: CYCLES_PER_SEARCH * INTERVAL_MS });
  try {
    // Warm-up: three cycles of every device.
    await waitForReadings(controller, 4 * NODES, 30_000);
    const windows: Window[] = [];
    await controller.timing(true);
    for (let w = 0; w < WINDOWS; w++) {
      const simFrom = await sim.cpuMs();
      const from = await controller.sample();
      await sleep(WINDOW_S * 1000);
      const to = await controller.sample();
      const simTo = await sim.cpuMs();
      windows.push(windowOf(from, to, simFrom === undefined || simTo === undefined ? undefined : simTo - simFrom));
    }
    const timing = cycleTiming(await controller.timing(false));
    return { windows, timing };
  } finally {
    await controller.exit();
  }
}

async function phaseDirect(sim: SimProcess): Promise<Window[]> {
  if (DIRECT_CYCLES <= 0) return [];
  const controller = await startMeasured(sim, { pollIntervalMs: DEFAULT_INTERVAL_MS, searchIntervalMs: EDGE.searchIntervalMs });
  try {
    // Every device's first poll comes within two seconds of its discovery; windows start just after
    // and are one interval long, so each holds one poll of every device (and the tenth, a search).
    await waitForReadings(controller, NODES, 10_000);
    await sleep(2_000);
    const windows: Window[] = [];
    const firstAt = Date.now();
    let from = await controller.sample();
    for (let c = 0; c < DIRECT_CYCLES; c++) {
      await sleep(firstAt + (c + 1) * DEFAULT_INTERVAL_MS - Date.now());
      const to = await controller.sample();
      windows.push(windowOf(from, to, undefined));
      from = to;
    }
    return windows;
  } finally {
    await controller.exit();
  }
}

const pct = (share: number): string => `${(share * 100).toFixed(3)} %`;

async function main(): Promise<number> {
  const host = machine();
  console.log(`machine: ${machineLine(host)}`);
  console.log(`poll cycles of ${NODES} simulated air conditioners × ${PROPERTIES} properties; controller process flags: ${controllerNodeFlags().join(' ') || "(Node's defaults)"}`);
  const sim = await spawnSimulator({ nodes: NODES, baseAddress: BASE_ADDRESS });
  console.log(`simulator pid ${sim.pid}, port ${sim.port}: ${sim.nodes.length} nodes up`);
  let short: Awaited<ReturnType<typeof phaseShort>>;
  let direct: Window[];
  try {
    console.log(`A: poll interval ${INTERVAL_MS} ms, a search every ${CYCLES_PER_SEARCH} cycles, ${WINDOWS} windows of ${WINDOW_S} s …`);
    short = await phaseShort(sim);
    if (DIRECT_CYCLES > 0) console.log(`B: the edge's defaults (poll every ${DEFAULT_INTERVAL_MS / 1000} s, search every ${EDGE.searchIntervalMs / 1000} s), ${DIRECT_CYCLES} windows of ${DEFAULT_INTERVAL_MS / 1000} s …`);
    direct = await phaseDirect(sim);
  } finally {
    await sim.stop();
  }

  const { windows, timing } = short;
  console.log();
  console.log(`A. poll interval ${INTERVAL_MS} ms (a search every ${CYCLES_PER_SEARCH} cycles), per window of ${WINDOW_S} s:`);
  console.log(
    table(
      ['window', 'cycles', 'CPU (ms)', 'of it kernel', 'CPU per cycle (ms)', 'share at 30 s', 'frames sent / device / cycle', 'frames received / device / cycle', 'timeouts', 'event loop busy', 'simulator CPU (ms)'],
      windows.map((w, i) => [
        String(i + 1),
        (w.deviceCycles / NODES).toFixed(2),
        w.cpuMs.toFixed(0),
        pct(w.systemShare).replace(/\.\d+ %/, ' %'),
        w.cpuMsPerCycle.toFixed(2),
        pct(w.cpuMsPerCycle / DEFAULT_INTERVAL_MS),
        w.framesSentPerDeviceCycle.toFixed(3),
        w.framesReceivedPerDeviceCycle.toFixed(3),
        String(w.timeouts),
        pct(w.eventLoopUtilisation),
        w.simCpuMs?.toFixed(0) ?? '-',
      ]),
    ),
  );
  const perCycle = spread(windows.map((w) => w.cpuMsPerCycle));
  const shareAt30 = spread(windows.map((w) => w.cpuMsPerCycle / DEFAULT_INTERVAL_MS));
  const framesPerDevice = spread(windows.map((w) => w.framesSentPerDeviceCycle));
  // Over all windows together: a window's edges cut a few Gets from their readings.
  const framesPerDeviceOverall = windows.reduce((n, w) => n + w.framesSent, 0) / windows.reduce((n, w) => n + w.deviceCycles, 0);
  const kernelShare = spread(windows.map((w) => w.systemShare));
  console.log();
  console.log(`controller CPU per cycle of ${NODES} devices: min / median / max ${showSpread(perCycle, 2, ' ms')}`);
  console.log(`→ share of one core at a 30 s interval: ${pct(shareAt30.min)} / ${pct(shareAt30.median)} / ${pct(shareAt30.max)}`);
  console.log(
    `frames sent per device per cycle, searches included: ${framesPerDeviceOverall.toFixed(4)} over all windows (per window ${showSpread(framesPerDevice, 3)}; ${windows.reduce((n, w) => n + w.searches, 0)} searches)`,
  );
  console.log(`of the CPU time, in the kernel: ${pct(kernelShare.min)} / ${pct(kernelShare.median)} / ${pct(kernelShare.max)}`);
  console.log(
    `Get → reading per device: p50 ${timing.perDevice.p50.toFixed(2)} ms, p95 ${timing.perDevice.p95.toFixed(2)} ms, max ${timing.perDevice.max.toFixed(2)} ms (${timing.perDevice.n} polls)`,
  );
  console.log(`device cycles begun in the busiest ${BURST_WINDOW_MS} ms: ${timing.busiestBurst} of ${NODES} (devices keep the staggered phases of their first polls)`);

  let directShare: Spread | undefined;
  if (direct.length > 0) {
    console.log();
    console.log(`B. the edge's defaults: poll every ${DEFAULT_INTERVAL_MS / 1000} s, search every ${EDGE.searchIntervalMs / 1000} s, per ${DEFAULT_INTERVAL_MS / 1000} s window:`);
    console.log(
      table(
        ['window', 'polls', 'searches', 'CPU (ms)', 'share of one core', 'frames sent', 'timeouts'],
        direct.map((w, i) => [
          String(i + 1),
          String(w.deviceCycles),
          String(w.searches),
          w.cpuMs.toFixed(1),
          pct(w.cpuMs / w.wallMs),
          (w.framesSentPerDeviceCycle * w.deviceCycles).toFixed(0),
          String(w.timeouts),
        ]),
      ),
    );
    directShare = spread(direct.map((w) => w.cpuMs / w.wallMs));
    console.log(`share of one core measured over real 30 s cycles: ${pct(directShare.min)} / ${pct(directShare.median)} / ${pct(directShare.max)}`);
  }

  const oneFrame = framesPerDeviceOverall <= 1.005;
  const cpuMet = shareAt30.max < GOAL_SHARE && (directShare === undefined || directShare.max < GOAL_SHARE);
  console.log();
  console.log(`goal: one Get frame per device per cycle: ${goal(oneFrame)}; under 2 % of one core at 30 s: ${goal(cpuMet)}`);
  console.log(
    JSON.stringify({
      bench: 'echonet-poll',
      machine: host,
      nodes: NODES,
      propertiesPerDevice: PROPERTIES,
      shortIntervalMs: INTERVAL_MS,
      windows: windows.length,
      cpuMsPerCycle: roundSpread(perCycle, 2),
      shareAt30sPercent: roundSpread({ ...shareAt30, min: shareAt30.min * 100, median: shareAt30.median * 100, max: shareAt30.max * 100 }, 4),
      framesSentPerDevicePerCycle: round(framesPerDeviceOverall, 4),
      framesSentPerDevicePerCyclePerWindow: roundSpread(framesPerDevice, 4),
      kernelSharePercent: roundSpread({ ...kernelShare, min: kernelShare.min * 100, median: kernelShare.median * 100, max: kernelShare.max * 100 }, 1),
      getToReadingMs: { p50: round(timing.perDevice.p50, 3), p95: round(timing.perDevice.p95, 3), max: round(timing.perDevice.max, 3), n: timing.perDevice.n },
      busiestBurst: { windowMs: BURST_WINDOW_MS, deviceCycles: timing.busiestBurst },
      searches: windows.reduce((n, w) => n + w.searches, 0),
      timeouts: windows.reduce((n, w) => n + w.timeouts, 0) + direct.reduce((n, w) => n + w.timeouts, 0),
      direct30s:
        directShare === undefined
          ? null
          : {
              windows: direct.length,
              sharePercent: roundSpread({ ...directShare, min: directShare.min * 100, median: directShare.median * 100, max: directShare.max * 100 }, 4),
              cpuMsPerWindow: roundSpread(spread(direct.map((w) => w.cpuMs)), 1),
              searches: direct.reduce((n, w) => n + w.searches, 0),
            },
      goals: { oneFramePerDeviceCycle: oneFrame, under2PercentAt30s: cpuMet },
    }),
  );
  return 0;
}

runBenchmark('echonet-poll', main);
