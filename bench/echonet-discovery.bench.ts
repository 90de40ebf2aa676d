// `npm run bench echonet-discovery`: how long the ECHONET Lite controller takes, from start(), to know
// 100 simulated air conditioners on 100 distinct loopback addresses with their identity (an id built
// from node profile 0x83) and their property maps (0x9D/0x9E/0x9F). Goal (issue #4): under 5 s.
//
// The simulated units run in their own process (the echolake-sim CLI), the controller in another
// (compiled JavaScript under the systemd unit's Node flags, default settings: 3 s search window, 1 s
// quiet time, new nodes described 5 ms apart), one fresh controller process per run, so each run is
// a gateway starting cold on a LAN of 100 units.
//
//   node --expose-gc --import tsx bench/echonet-discovery.bench.ts [--runs 5] [--nodes 100] [--base-address 127.0.1.2]
//        [--sim-args "--drop-rate 0.05"]   (more echolake-sim flags, e.g. a lossy LAN; timeout then 90 s)
import { type Sample, ControllerProcess, controllerNodeFlags } from './support/echonet-controller-process.js';
import { INTERFACE, numberFlag, spawnSimulator, stringFlag } from './support/echonet-harness.js';
import { goal, round, roundSpread, showSpread, sleep, spread, table, runBenchmark } from './support/report.js';
import { machine, machineLine } from './support/proc.js';

const RUNS = numberFlag('runs', 5);
const NODES = numberFlag('nodes', 100);
const BASE_ADDRESS = stringFlag('base-address', '127.0.1.2');
const SIM_ARGS = stringFlag('sim-args', '').split(/\s+/).filter((a) => a !== '');
const TIMEOUT_MS = SIM_ARGS.length === 0 ? 30_000 : 90_000;
const GOAL_S = 5;

interface Run {
  readonly run: number;
  readonly complete: boolean;
  readonly allS: number | undefined;
  readonly halfS: number | undefined;
  readonly ninetyS: number | undefined;
  readonly known: number;
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly timeouts: number;
  readonly cpuMs: number;
  readonly missing: readonly string[];
}

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : round(ms / 1000, 3));
const cpuMs = (from: Sample, to: Sample): number => (to.cpuUserUs - from.cpuUserUs + to.cpuSystemUs - from.cpuSystemUs) / 1000;

async function main(): Promise<number> {
  const host = machine();
  console.log(`machine: ${machineLine(host)}`);
  console.log(`discovery of ${NODES} simulated air conditioners (${BASE_ADDRESS} and up), ${RUNS} runs, a fresh controller process each`);
  console.log(`controller process flags: ${controllerNodeFlags().join(' ') || "(Node's defaults)"}`);
  if (SIM_ARGS.length > 0) console.log(`simulator flags: ${SIM_ARGS.join(' ')}`);
  const sim = await spawnSimulator({ nodes: NODES, baseAddress: BASE_ADDRESS, extraArgs: SIM_ARGS });
  const expected = sim.nodes.map((n) => n.deviceId);
  if (sim.nodes.some((n) => n.nodeId === null)) throw new Error('every simulated node should have an identification number');
  console.log(`simulator pid ${sim.pid}, port ${sim.port}: ${sim.nodes.length} nodes up (${sim.nodes[0]?.address} … ${sim.nodes.at(-1)?.address})`);

  const runs: Run[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      const controller = await ControllerProcess.spawn();
      try {
        const before = await controller.sample();
        await controller.start({ interfaceAddress: INTERFACE, port: sim.port }, expected);
        // The child times everything from its call of start().
        const result = await controller.waitDiscovered(TIMEOUT_MS);
        const after = await controller.sample();
        runs.push({
          run,
          complete: result.complete,
          allS: seconds(result.allMs),
          halfS: seconds(result.halfMs),
          ninetyS: seconds(result.ninetyMs),
          known: result.known,
          framesSent: after.framesSent,
          framesReceived: after.framesReceived,
          timeouts: after.requestTimeouts,
          cpuMs: round(cpuMs(before, after), 0),
          missing: result.missing,
        });
      } finally {
        await controller.exit();
      }
      await sleep(500);
    }
  } finally {
    await sim.stop();
  }

  const rows = runs.map((r) => [
    String(r.run),
    r.allS === undefined ? `incomplete (${r.known}/${NODES})` : r.allS.toFixed(3),
    r.halfS?.toFixed(3) ?? '-',
    r.ninetyS?.toFixed(3) ?? '-',
    String(r.framesSent),
    String(r.framesReceived),
    String(r.timeouts),
    String(r.cpuMs),
  ]);
  console.log();
  console.log(table(['run', `all ${NODES} known (s)`, '50 % (s)', '90 % (s)', 'frames sent', 'frames received', 'timeouts', 'controller CPU (ms)'], rows));
  const complete = runs.filter((r) => r.allS !== undefined);
  const all = spread(complete.map((r) => r.allS as number));
  const met = complete.length === runs.length && all.max < GOAL_S;
  console.log();
  console.log(`all ${NODES} known with 0x83 id and property maps: min / median / max ${showSpread(all, 3, ' s')} over ${complete.length}/${runs.length} complete runs`);
  console.log(`goal: every run under ${GOAL_S} s: ${goal(met)}`);
  console.log(
    '(frames and CPU: from start() until all were known — the announcement, the search, describing nodes and objects, and the first polls, which begin within two seconds of a device being known, 20 ms apart)',
  );
  for (const r of runs.filter((x) => x.missing.length > 0)) console.log(`run ${r.run}: missing ${r.missing.join(', ')}`);
  console.log(
    JSON.stringify({
      bench: 'echonet-discovery',
      machine: host,
      nodes: NODES,
      simArgs: SIM_ARGS.join(' '),
      runs: runs.length,
      completeRuns: complete.length,
      allKnownS: roundSpread(all, 3),
      halfKnownS: roundSpread(spread(complete.map((r) => r.halfS as number)), 3),
      ninetyKnownS: roundSpread(spread(complete.map((r) => r.ninetyS as number)), 3),
      controllerCpuMs: roundSpread(spread(runs.map((r) => r.cpuMs)), 0),
      timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
      goalS: GOAL_S,
      goalMet: met,
      perRun: runs.map(({ missing: _missing, ...r }) => r),
    }),
  );
  return 0;
}

runBenchmark('echonet-discovery', main);
