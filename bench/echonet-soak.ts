// The ECHONET Lite soak (issue #4, done when): "Against the simulator with every quirk switched on, a
// 10-minute run loses no device and records every INF."
//
//   node --import tsx bench/echonet-soak.ts --minutes 10 [--nodes 18] [--poll-ms 2000]
//        [--base-address 127.0.4.2] [--seed 1] [--log FILE]
//
// The simulator runs in this process (startSimulator with allQuirksMix(nodes, run length)), so the
// units' own journal (served()) says exactly which INFs really went out; the controller runs beside
// it with a short poll interval (many cycles) and otherwise default settings. Each node gets profile
// index mod 12 (see edge/simulator/quirks.ts): a baseline unit; 300 ms replies + 16+ entry maps;
// 20 % of requests dropped; Gets truncated at 4 EPCs + vendor EPCs; Gets over 3 EPCs refused + a
// temperature sensor; completely silent from 20 % to 35 % of the run; deaf to unicast (still
// announcing) from 40 % to 70 %; moves to another address at 50 %; no identification number (0x83),
// taking over the moved unit's old address at 55 %; swaps addresses at 45 % with the next unit,
// which lacks its vendor EPCs and drops Gets over 3 EPCs without a word; a placeholder 0x83 (0xFE +
// zeros, so known by address like a unit without 0x83).
// Remote-control changes make the units announce (INF) about 20 times per run.
//
// At 72 % of the run (after the last quirk window) the edge restarts: the controller stops and, a
// second later, a new one starts with the devices the first knew (knownDevices()), while one unit
// (node 0) is deaf to requests until the new controller has searched twice. Every device must be
// listed the moment the new controller started, and the checks below span both controllers'
// readings. INFs sent while no controller listened (between the stop and the new start) cannot be
// recorded and are left out.
//
// At the end of the run (the cut-off) the INFs sent so far are taken from the units' journals; the
// units keep running for a settling time so frames in flight are handled, then it checks:
//   1. every device the simulator has (sim.devices(), with current addresses and ids) is known to
//      the controller under that id and at that address, online (the last quirk window closes at
//      70 % of the run), and was polled in the last 20 % of the run;
//   2. the controller knows no other device (an identity split would be one), except the stale
//      address-based record a unit without 0x83 leaves behind when it moves (see below);
//   3. no foreign reading: every value of every poll reading is one its own unit served (its
//      journal) within the 60 s before it was received (a cycle of a unit that drops big Gets
//      silently takes a few timeouts);
//   4. every INF a device object sent before the cut-off was recorded as an observation of kind
//      `inf` with the same device id, the same raw EDTs and a receive time within −1 s…+2 s of the
//      send. An INF from a node the controller has not described yet (not found yet, or just moved)
//      is held and replayed with its original receive time, so it matches like any other.
// A unit without 0x83 is known by address: if it moves, nothing ties the new address to the old
// one, so by design (edge/echonet/device-id.ts) it is a new device there and the old record stays,
// never forgotten, offline. For such a unit "not lost" means: known, online and polled under its
// current address-based id at the end, and each of its INFs recorded under the id of either address.
// (In the preset, the unit without 0x83 moves: it takes over the address the moving unit left.)
//
// Exit 0 when every check passes, 1 with the list of what was lost otherwise, 2 on bad arguments.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { type DeviceEvent, type KnownDevice, EchonetController } from '../edge/echonet/controller.js';
import { isPlaceholderIdentificationNumber } from '../edge/echonet/device-id.js';
import { type NodeQuirks, type SimulatedNodeHandle, type SimulatorHandle, allQuirksMix, startSimulator } from '../edge/simulator/simulator.js';
import type { Observation } from '../shared/reading.js';
import { INTERFACE, freePort } from './support/echonet-harness.js';
import { table, runBenchmark } from './support/report.js';
import { machine, machineLine } from './support/proc.js';

const USAGE = 'usage: node --import tsx bench/echonet-soak.ts --minutes 10 [--nodes 18] [--poll-ms 2000] [--base-address 127.0.4.2] [--seed 1] [--log FILE]';

function cli(): { minutes: number; nodes: number; pollMs: number; baseAddress: string; seed: number; log: string } {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      minutes: { type: 'string' },
      nodes: { type: 'string' },
      'poll-ms': { type: 'string' },
      'base-address': { type: 'string' },
      seed: { type: 'string' },
      log: { type: 'string' },
    },
    strict: true,
  });
  const num = (value: string | undefined, name: string, fallback: number): number => {
    const n = value === undefined ? fallback : Number(value);
    if (!(Number.isFinite(n) && n > 0)) throw new Error(`--${name} must be a positive number, got ${value}`);
    return n;
  };
  const nodes = num(values.nodes, 'nodes', 18);
  if (!Number.isInteger(nodes)) throw new Error('--nodes must be a whole number');
  return {
    minutes: num(values.minutes, 'minutes', 10),
    nodes,
    pollMs: num(values['poll-ms'], 'poll-ms', 2_000),
    baseAddress: values['base-address'] ?? '127.0.4.2',
    seed: num(values.seed, 'seed', 1),
    log: values.log ?? join(tmpdir(), `echolake-soak-${new Date().toISOString().replace(/[:.]/g, '-')}.log`),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const SETTLE_MS = 10_000;
const ONLINE_GRACE_MS = 60_000;
const PROGRESS_EVERY_MS = 30_000;
const MATCH_BEFORE_MS = 1_000;
const MATCH_AFTER_MS = 2_000;
const OWN_VALUE_WINDOW_MS = 60_000;
/** When the edge restarts, as a fraction of the run: after the last quirk window (70 %), before the last 20 % whose polls are checked. */
const RESTART_AT = 0.72;
/** Searches the new controller runs while node 0 stays deaf, so it is only found by what the first controller knew. */
const SEARCHES_MISSED = 2;
/** How long the edge is down while it restarts (a process restart, not a power cut of the units). */
const DOWN_MS = 1_000;
/** How long a frame on loopback may still be on its way. */
const IN_FLIGHT_MS = 50;

/** Raw EDTs as one comparable string, EPCs in order. */
const rawKey = (raw: Readonly<Record<string, string>>): string =>
  Object.keys(raw)
    .sort()
    .map((epc) => `${epc}=${raw[epc]}`)
    .join(',');

interface SentInf {
  readonly node: number;
  readonly eoj: string;
  readonly at: number;
  readonly raw: string;
  /** The ids a controller may record it under (one, or two for a unit without 0x83 that moved). */
  readonly ids: readonly string[];
}

interface Timeline {
  readonly at: number;
  readonly deviceId: string;
  readonly what: string;
}

/** A unit without 0x83, or with a placeholder one, is known by its address (device-id.ts). */
const knownByAddress = (node: SimulatedNodeHandle): boolean => node.nodeId === null || isPlaceholderIdentificationNumber(node.nodeId);

/** Short names of a node's quirks, for the table. */
function profileOf(quirks: Readonly<NodeQuirks>): string {
  const parts: string[] = [];
  if (quirks.replyDelayMs) parts.push(`delay ${quirks.replyDelayMs} ms`);
  if (quirks.extendedPropertyMaps) parts.push('16+ maps');
  if (quirks.dropRequestRate) parts.push(`drop ${quirks.dropRequestRate * 100} %`);
  if (quirks.maxGetBatch) parts.push(`max Get ${quirks.maxGetBatch.size} (${quirks.maxGetBatch.behaviour})`);
  if (quirks.vendorEpcs) parts.push('vendor EPCs');
  if (quirks.temperatureSensor) parts.push('+sensor');
  if (quirks.silentBetween) parts.push('silent spell');
  if (quirks.deafBetween) parts.push('deaf spell');
  if (quirks.moveAfterMs !== undefined) parts.push('moves');
  if (quirks.noIdentificationNumber) parts.push('no 0x83');
  if (quirks.placeholderIdentificationNumber) parts.push('placeholder 0x83');
  if (quirks.ignoreGetsOver !== undefined) parts.push(`ignores Gets over ${quirks.ignoreGetsOver}`);
  if (quirks.swapAfterMs !== undefined) parts.push('swaps with next');
  if (quirks.takeOverAddressOf !== undefined) parts.push(`takes node ${quirks.takeOverAddressOf.node}'s address`);
  if (quirks.silent) parts.push('silent');
  return parts.length === 0 ? 'baseline' : parts.join(', ');
}

/** When the last timed quirk (silence, deafness, move) is over, ms after the simulator started. */
function quirkWindowsEnd(sim: SimulatorHandle): number {
  let end = 0;
  for (const { quirks } of sim.nodes) {
    end = Math.max(end, quirks.silentBetween?.toMs ?? 0, quirks.deafBetween?.toMs ?? 0, quirks.moveAfterMs ?? 0, quirks.swapAfterMs ?? 0, quirks.takeOverAddressOf?.afterMs ?? 0);
  }
  return end;
}

async function startSimulatorOnFreePort(
  options: Omit<Parameters<typeof startSimulator>[0], 'port'>,
): Promise<{ sim: SimulatorHandle; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return { sim: await startSimulator({ ...options, port }), port };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 4) throw error;
    }
  }
}

async function main(): Promise<number> {
  let args: ReturnType<typeof cli>;
  try {
    args = cli();
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const runMs = Math.round(args.minutes * 60_000);
  const host = machine();
  console.log(`machine: ${machineLine(host)}`);
  const destination = pino.destination({ dest: args.log, sync: true, mkdir: true });
  const log = pino({ name: 'echolake', level: 'info' }, destination);

  const { sim, port } = await startSimulatorOnFreePort({
    interfaceAddress: INTERFACE,
    nodes: args.nodes,
    baseAddress: args.baseAddress,
    tickMs: 1_000,
    seed: args.seed,
    nodeQuirks: allQuirksMix(args.nodes, runMs),
    logger: log.child({ component: 'simulator' }),
  });
  const t0 = sim.startedAt.getTime();
  const since = (at: number): string => `${((at - t0) / 1000).toFixed(1)} s`;
  const startAddresses = sim.nodes.map((n) => n.address);
  const windowsEnd = quirkWindowsEnd(sim);
  console.log(
    `soak: ${args.nodes} simulated units with every quirk (all-quirks preset over ${args.minutes} min), ${args.baseAddress} and up, port ${port}; ` +
      `controller polls every ${args.pollMs} ms; quirk windows end at ${(windowsEnd / 1000).toFixed(0)} s; log ${args.log}`,
  );

  const observations: Observation[] = [];
  const timeline: Timeline[] = [];
  const record = (event: DeviceEvent): void => {
    const what =
      event.type === 'discovered'
        ? `discovered at ${event.device.address}`
        : event.type === 'moved'
          ? `moved ${event.from} → ${event.device.address}`
          : event.type === 'availability'
            ? `${event.from} → ${event.device.availability}`
            : 'property maps changed';
    timeline.push({ at: Date.now(), deviceId: event.device.deviceId, what });
  };
  const newController = (knownDevices: readonly KnownDevice[], run: number): EchonetController => {
    const created = new EchonetController({ interfaceAddress: INTERFACE, port, pollIntervalMs: args.pollMs, logger: log.child({ component: 'controller', run }), knownDevices });
    created.on('observation', (observation) => observations.push(observation));
    created.on('device', record);
    return created;
  };
  let controller = newController([], 1);

  // The units' journals keep their last 10 000 frames; INFs are collected as the run goes so a long
  // soak cannot lose the early ones to that limit.
  const sent = new Map<string, SentInf>();
  /** Every Get answer each unit served, by node and EOJ: the truth each poll reading is checked against. */
  const servedPolls = new Map<string, Array<{ at: number; raw: Readonly<Record<string, string>> }>>();
  /** Per node and EOJ, how far its journal was read: each pass reads only what is new (a long soak's journals are big). */
  const readUpTo = new Map<string, number>();
  const collectSent = (until: number): void => {
    for (const node of sim.nodes) {
      for (const device of node.devices()) {
        const ids = !knownByAddress(node) ? [device.deviceId] : [...new Set([`${startAddresses[node.index]}-${device.eoj}`, device.deviceId])];
        const key = `${node.index}/${device.eoj}`;
        const polls = servedPolls.get(key) ?? [];
        servedPolls.set(key, polls);
        const from = readUpTo.get(key) ?? -1;
        let upTo = from;
        for (const served of node.served(device.eoj)) {
          const at = served.at.getTime();
          if (at <= from) continue;
          if (served.kind === 'poll') {
            polls.push({ at, raw: served.raw });
            upTo = Math.max(upTo, at);
            continue;
          }
          if (at > until) continue;
          upTo = Math.max(upTo, at);
          const raw = rawKey(served.raw);
          sent.set(`${node.index}/${device.eoj}/${at}/${raw}`, { node: node.index, eoj: device.eoj, at, raw, ids });
        }
        // Frames of the same instant as the last read are read again next time (the map dedupes INFs).
        readUpTo.set(key, upTo - 1);
      }
    }
  };

  /**
   * Stops the controller and starts a new one with what it knew, node 0 deaf to requests until the
   * new one searched `SEARCHES_MISSED` times. Returns when no controller listened, and what the new
   * one did not list at once.
   */
  const restartEdge = async (): Promise<{ downFrom: number; upAt: number; notListed: string[]; deafNode: number }> => {
    const known = controller.knownDevices();
    const deaf = sim.nodes[0];
    deaf?.setSilent(true);
    const downFrom = Date.now();
    await controller.stop();
    await sleep(DOWN_MS);
    controller = newController(known, 2);
    await controller.start();
    const upAt = Date.now();
    const listed = new Set(controller.devices().map((d) => d.deviceId));
    const notListed = known.map((k) => k.identity.deviceId).filter((id) => !listed.has(id));
    console.log(`  ${since(upAt).padStart(8)}: edge restarted (down ${upAt - downFrom} ms), ${listed.size}/${known.length} known devices listed at once; node 0 deaf until ${SEARCHES_MISSED} searches ran`);
    const searched = controller;
    void (async () => {
      while (!stopping && searched.counters().searches < SEARCHES_MISSED + 1) await sleep(200);
      deaf?.setSilent(false);
    })();
    return { downFrom, upAt, notListed, deafNode: 0 };
  };

  let stopping = false;
  const interrupted = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        stopping = true;
        console.log(`\n${signal}: stopping early, the checks below cover the run so far`);
        resolve();
      });
    }
  });

  await controller.start();
  const progress = setInterval(() => {
    const now = Date.now();
    collectSent(now);
    const devices = controller.devices();
    const online = devices.filter((d) => d.availability === 'online').length;
    // INFs counted up to a second ago, so those still on their way do not look lost.
    const settled = now - 1_000;
    const infsSent = [...sent.values()].filter((s) => s.at <= settled).length;
    const infsRecorded = observations.filter((o) => o.kind === 'inf' && Date.parse(o.ts) <= settled).length;
    console.log(
      `  ${since(now).padStart(8)}: ${devices.length}/${sim.devices().length} devices known, ${online} online; ` +
        `${observations.length} readings; INFs until a second ago: ${infsRecorded} recorded, ${infsSent} sent`,
    );
  }, PROGRESS_EVERY_MS);

  // The edge restarts mid-run; then run until the cut-off, and let frames in flight land.
  await Promise.race([sleep(Math.max(0, t0 + RESTART_AT * runMs - Date.now())), interrupted]);
  const restart = stopping ? undefined : await restartEdge();
  await Promise.race([sleep(Math.max(0, t0 + runMs - Date.now())), interrupted]);
  const cutoff = Date.now();
  collectSent(cutoff);
  clearInterval(progress);
  if (!stopping) await Promise.race([sleep(SETTLE_MS), interrupted]);

  // Every device online again: the quirk windows closed long ago; allow a grace period for the
  // backoff of a device that failed lately (e.g. the one dropping 20 % of requests).
  const expectedDevices = sim.devices();
  const allOnline = (): boolean => expectedDevices.every((d) => controller.registry.get(d.deviceId)?.availability === 'online');
  const graceStart = Date.now();
  while (!stopping && !allOnline() && Date.now() - graceStart < ONLINE_GRACE_MS) await sleep(500);
  const graceMs = Date.now() - graceStart;

  const finalDevices = controller.devices();
  const counters = controller.counters();
  await controller.stop();
  collectSent(cutoff);
  await sim.stop();

  // ---------------------------------------------------------------------------------------------
  // Checks
  const problems: string[] = [];
  const notes: string[] = [];
  const recentFrom = t0 + Math.max(windowsEnd, 0.8 * runMs);
  const byId = new Map(finalDevices.map((d) => [d.deviceId, d]));
  const expectedIds = new Set(expectedDevices.map((d) => d.deviceId));
  const pollsOf = (deviceId: string, from = 0): number => observations.filter((o) => o.deviceId === deviceId && o.kind === 'poll' && Date.parse(o.ts) >= from).length;

  for (const device of expectedDevices) {
    const known = byId.get(device.deviceId);
    const label = `node ${device.node} ${device.eoj} (${device.deviceId})`;
    if (known === undefined) {
      problems.push(`${label}: not known to the controller`);
      continue;
    }
    if (known.address !== device.address) problems.push(`${label}: the controller has it at ${known.address}, it is at ${device.address}`);
    if (known.availability !== 'online') problems.push(`${label}: ${known.availability} at the end (since ${known.availabilitySince})`);
    if (pollsOf(device.deviceId, recentFrom) === 0) problems.push(`${label}: no poll reading after ${since(recentFrom)}`);
  }
  const staleNoIdRecords = new Set(
    sim.nodes.filter((n) => knownByAddress(n) && startAddresses[n.index] !== n.address).flatMap((n) => n.devices().map((d) => `${startAddresses[n.index]}-${d.eoj}`)),
  );
  for (const device of finalDevices) {
    if (expectedIds.has(device.deviceId)) continue;
    if (staleNoIdRecords.has(device.deviceId)) notes.push(`${device.deviceId}: the old record of a unit without 0x83 that moved (expected; ${device.availability})`);
    else problems.push(`unexpected device ${device.deviceId} at ${device.address} (${device.eoj}): a unit split into two identities?`);
  }

  // No foreign reading: every value of every poll reading is one its own unit served just before.
  const nodeOfId = new Map<string, string>();
  for (const node of sim.nodes) {
    for (const device of node.devices()) {
      nodeOfId.set(device.deviceId, `${node.index}/${device.eoj}`);
      if (knownByAddress(node)) nodeOfId.set(`${startAddresses[node.index]}-${device.eoj}`, `${node.index}/${device.eoj}`);
    }
  }
  let foreignReadings = 0;
  for (const o of observations) {
    const ownKey = nodeOfId.get(o.deviceId);
    if (o.kind !== 'poll' || ownKey === undefined) continue;
    const own = servedPolls.get(ownKey) ?? [];
    const at = Date.parse(o.ts);
    const stranger = Object.entries(o.raw).find(([epc, hex]) => !own.some((s) => s.raw[epc] === hex && s.at <= at + 5 && s.at >= at - OWN_VALUE_WINDOW_MS));
    if (stranger === undefined) continue;
    foreignReadings += 1;
    if (foreignReadings <= 10) problems.push(`foreign reading: ${o.deviceId} at ${since(at)} from ${o.address} has ${stranger[0]}=${stranger[1]}, which its unit never served then`);
  }
  if (foreignReadings > 10) problems.push(`… ${foreignReadings - 10} more foreign readings`);
  if (restart === undefined) notes.push('the edge was not restarted (run interrupted before)');
  for (const id of restart?.notListed ?? []) problems.push(`${id}: known before the restart, not listed the moment the new controller started`);

  // INFs: greedy, in time order, per (acceptable id, raw): each recorded INF matches one sent INF.
  const recorded = new Map<string, number[]>();
  for (const o of observations) {
    if (o.kind !== 'inf') continue;
    const key = `${o.deviceId}|${rawKey(o.raw)}`;
    const list = recorded.get(key) ?? [];
    list.push(Date.parse(o.ts));
    recorded.set(key, list);
  }
  for (const list of recorded.values()) list.sort((a, b) => a - b);
  const used = new Map<string, Set<number>>();
  const lostInfs: SentInf[] = [];
  // Nobody listened between the stop and the new start: those INFs are nobody's loss to count.
  // (with a moment before the stop: a frame sent just before may still be on its way when the sockets close).
  const unheard = (inf: SentInf): boolean => restart !== undefined && inf.at >= restart.downFrom - IN_FLIGHT_MS && inf.at <= restart.upAt;
  const sentInfs = [...sent.values()].filter((inf) => !unheard(inf)).sort((a, b) => a.at - b.at);
  const unheardInfs = sent.size - sentInfs.length;
  if (restart !== undefined) notes.push(`edge restarted at ${since(restart.upAt)}, down ${restart.upAt - restart.downFrom} ms; ${unheardInfs} INFs sent meanwhile left out`);
  for (const inf of sentInfs) {
    let matched = false;
    for (const id of inf.ids) {
      const key = `${id}|${inf.raw}`;
      const times = recorded.get(key) ?? [];
      const taken = used.get(key) ?? new Set<number>();
      const index = times.findIndex((t, i) => !taken.has(i) && t >= inf.at - MATCH_BEFORE_MS && t <= inf.at + MATCH_AFTER_MS);
      if (index >= 0) {
        taken.add(index);
        used.set(key, taken);
        matched = true;
        break;
      }
    }
    if (!matched) lostInfs.push(inf);
  }
  for (const inf of lostInfs) {
    problems.push(`INF lost: node ${inf.node} ${inf.eoj} sent at ${since(inf.at)} {${inf.raw}} (as ${inf.ids.join(' or ')})`);
  }
  // The other way round: INF readings received well before the cut-off that match no INF sent.
  let unmatchedRecorded = 0;
  for (const [key, times] of recorded) {
    const taken = used.get(key);
    unmatchedRecorded += times.filter((t, i) => !taken?.has(i) && t <= cutoff - MATCH_BEFORE_MS).length;
  }
  if (unmatchedRecorded > 0) notes.push(`${unmatchedRecorded} INF readings match no INF a unit sent (duplicates?)`);
  if (graceMs > 1_000) notes.push(`waited ${(graceMs / 1000).toFixed(1)} s after the settling time for every device to be online`);

  // ---------------------------------------------------------------------------------------------
  // Summary
  console.log();
  const rows = sim.nodes.flatMap((node) =>
    node.devices().map((device) => {
      const known = byId.get(device.deviceId);
      const infsSent = sentInfs.filter((s) => s.node === node.index && s.eoj === device.eoj).length;
      const infsLost = lostInfs.filter((s) => s.node === node.index && s.eoj === device.eoj).length;
      const changes = timeline.filter((t) => t.deviceId === device.deviceId && !t.what.startsWith('discovered')).map((t) => `${since(t.at)} ${t.what}`);
      return [
        `${node.index}`,
        device.eoj,
        profileOf(node.quirks),
        startAddresses[node.index] === device.address ? device.address : `${startAddresses[node.index]} → ${device.address}`,
        known?.availability ?? 'MISSING',
        String(pollsOf(device.deviceId)),
        `${infsSent - infsLost}/${infsSent}`,
        changes.length === 0 ? '-' : changes.join('; '),
      ];
    }),
  );
  console.log(table(['node', 'eoj', 'quirks', 'address', 'at the end', 'poll readings', 'INFs recorded/sent', 'moves and availability (time since start)'], rows));
  console.log();
  console.log(
    `run ${args.minutes} min (cut-off at ${since(cutoff)}), ${expectedDevices.length} devices on ${args.nodes} units, ${finalDevices.length} known to the controller; ` +
      `${observations.length} readings; INFs: ${sentInfs.length} sent before the cut-off, ${sentInfs.length - lostInfs.length} recorded; ` +
      `counters of the controller after the restart: ${counters.searches} searches, ${counters.transport.requestTimeouts} request timeouts, ${counters.unattributedInfs} unattributed INFs dropped, ` +
      `${counters.transport.malformedFrames} malformed frames, ${counters.foreignAnswersDropped} answers from a node at a moved device's address dropped`,
  );
  for (const note of notes) console.log(`note: ${note}`);
  destination.flushSync();
  const verdict = { soak: 'echonet', minutes: args.minutes, nodes: args.nodes, devices: expectedDevices.length, infsSent: sentInfs.length, infsLost: lostInfs.length, foreignReadings, problems: problems.length, passed: problems.length === 0 && !stopping };
  if (problems.length === 0 && !stopping) {
    console.log(`PASS: no device lost, no foreign reading, every INF recorded (log: ${args.log})`);
  } else {
    console.log(`FAIL: ${problems.length} problem(s)${stopping ? ' (run interrupted)' : ''} (log: ${args.log})`);
    for (const problem of problems) console.log(`  - ${problem}`);
  }
  console.log(JSON.stringify(verdict));
  return verdict.passed ? 0 : 1;
}

runBenchmark('echonet-soak', main);
