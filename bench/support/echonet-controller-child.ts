/**
 * The ECHONET Lite controller under measurement, alone in a process of its own: the benchmarks start
 * this file compiled to plain JavaScript (see echonet-controller-process.ts), so neither the
 * simulator nor a TypeScript loader shares its CPU time or memory. Driven over the IPC channel:
 * each request `{ id, cmd, ... }` gets one reply `{ id, ok, result | error }`.
 *
 * Nothing here runs per frame except two counters and, only while `timing` is on, a timestamp per
 * Get sent (by a wrapper around the socket's send that exists only then) and per poll reading.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { type EchonetControllerOptions, EchonetController } from '../../edge/echonet/controller.js';

/** What the parent may set of the controller's options (JSON over IPC: no logger, registry or random). */
export type ChildControllerOptions = Omit<EchonetControllerOptions, 'logger' | 'registry' | 'random'>;

export type ChildRequest =
  | { readonly id: number; readonly cmd: 'start'; readonly options: ChildControllerOptions; readonly expected: readonly string[]; readonly logLevel?: string }
  | { readonly id: number; readonly cmd: 'waitDiscovered'; readonly timeoutMs: number }
  | { readonly id: number; readonly cmd: 'sample'; readonly gc: boolean }
  | { readonly id: number; readonly cmd: 'timing'; readonly on: boolean }
  | { readonly id: number; readonly cmd: 'stop' };

export interface DiscoveryResult {
  readonly complete: boolean;
  /** From the call of start() until every expected device was known with a 0x83-based id and a Get map. */
  readonly allMs: number | undefined;
  readonly halfMs: number | undefined;
  readonly ninetyMs: number | undefined;
  readonly known: number;
  readonly expected: number;
  readonly missing: readonly string[];
}

export interface Sample {
  /** performance.now() in the child. */
  readonly at: number;
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** /proc/self/status VmHWM: the highest RSS so far. */
  readonly vmHwm: number | undefined;
  readonly framesSent: number;
  readonly framesReceived: number;
  readonly requestTimeouts: number;
  readonly lateResponses: number;
  readonly searches: number;
  readonly observations: number;
  readonly pollReadings: number;
  readonly infReadings: number;
  readonly devices: number;
  readonly online: number;
  /** Event-loop utilisation since the process started (idle vs. active time). */
  readonly eluActiveMs: number;
  readonly eluIdleMs: number;
}

/** Per device: [first Get of a poll cycle sent, its reading emitted], performance.now() ms. */
export type TimingRecords = Record<string, Array<[number, number]>>;

let controller: EchonetController | undefined;
let expected: readonly string[] = [];
let startedAt = 0;
const milestones: { half?: number; ninety?: number; all?: number } = {};
let discoveryWaiters: Array<() => void> = [];
let discoveryTimer: NodeJS.Timeout | undefined;
let pollReadings = 0;
let infReadings = 0;

let timing = false;
const cycleStartByAddress = new Map<string, number>();
let timingRecords: TimingRecords = {};

// The transport sends with socket.send(bytes, port, address, callback); while timing is on, the
// wrapper remembers when the first Get (ESV 0x62 at byte 10) of a cycle went to each address.
const socketPrototype = dgram.Socket.prototype as unknown as { send: (...args: unknown[]) => void };
const originalSend = socketPrototype.send;
function sendNotingGets(this: unknown, ...args: unknown[]): void {
  const [bytes, , address] = args;
  if (bytes instanceof Uint8Array && bytes[10] === 0x62 && typeof address === 'string' && !cycleStartByAddress.has(address)) {
    cycleStartByAddress.set(address, performance.now());
  }
  originalSend.apply(this, args);
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
}

function vmHwm(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function knownCount(): number {
  if (controller === undefined) return 0;
  let known = 0;
  for (const deviceId of expected) {
    const device = controller.registry.get(deviceId);
    if (device !== undefined && device.node.kind === 'id' && device.maps.get !== null) known += 1;
  }
  return known;
}

function checkDiscovery(): void {
  if (milestones.all !== undefined) return;
  const known = knownCount();
  const now = performance.now() - startedAt;
  if (milestones.half === undefined && known * 2 >= expected.length) milestones.half = now;
  if (milestones.ninety === undefined && known * 10 >= expected.length * 9) milestones.ninety = now;
  if (known === expected.length) {
    milestones.all = now;
    clearInterval(discoveryTimer);
    for (const wake of discoveryWaiters.splice(0)) wake();
  }
}

function discoveryResult(): DiscoveryResult {
  const missing = expected.filter((deviceId) => {
    const device = controller?.registry.get(deviceId);
    return device === undefined || device.node.kind !== 'id' || device.maps.get === null;
  });
  return {
    complete: milestones.all !== undefined,
    allMs: milestones.all,
    halfMs: milestones.half,
    ninetyMs: milestones.ninety,
    known: expected.length - missing.length,
    expected: expected.length,
    missing,
  };
}

async function start(request: Extract<ChildRequest, { cmd: 'start' }>): Promise<{ startedAt: number }> {
  if (controller !== undefined) throw new Error('a controller is already running');
  const logger = pino({ name: 'echolake', level: request.logLevel ?? 'warn', base: { component: 'bench-controller' } }, pino.destination(2));
  expected = request.expected;
  pollReadings = 0;
  infReadings = 0;
  delete milestones.half;
  delete milestones.ninety;
  delete milestones.all;
  const created = new EchonetController({ ...request.options, logger });
  controller = created;
  created.on('observation', (observation) => {
    if (observation.kind === 'inf') {
      infReadings += 1;
      return;
    }
    pollReadings += 1;
    if (!timing) return;
    const cycleStart = cycleStartByAddress.get(observation.address);
    if (cycleStart === undefined) return;
    cycleStartByAddress.delete(observation.address);
    (timingRecords[observation.deviceId] ??= []).push([cycleStart, performance.now()]);
  });
  created.on('device', () => checkDiscovery());
  startedAt = performance.now();
  await created.start();
  // Events cover new devices; a device whose maps arrive in a later description emits none.
  discoveryTimer = setInterval(checkDiscovery, 5);
  checkDiscovery();
  return { startedAt };
}

function waitDiscovered(timeoutMs: number): Promise<DiscoveryResult> {
  if (milestones.all !== undefined) return Promise.resolve(discoveryResult());
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      discoveryWaiters = discoveryWaiters.filter((w) => w !== wake);
      resolve(discoveryResult());
    }, timeoutMs);
    const wake = (): void => {
      clearTimeout(timer);
      resolve(discoveryResult());
    };
    discoveryWaiters.push(wake);
  });
}

function sample(collect: boolean): Sample {
  if (collect) gc();
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  const counters = controller?.counters();
  const devices = controller?.devices() ?? [];
  const elu = performance.eventLoopUtilization();
  return {
    at: performance.now(),
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    vmHwm: vmHwm(),
    framesSent: counters?.transport.framesSent ?? 0,
    framesReceived: counters?.transport.framesReceived ?? 0,
    requestTimeouts: counters?.transport.requestTimeouts ?? 0,
    lateResponses: counters?.transport.lateResponses ?? 0,
    searches: counters?.searches ?? 0,
    observations: counters?.observations ?? 0,
    pollReadings,
    infReadings,
    devices: devices.length,
    online: devices.filter((d) => d.availability === 'online').length,
    eluActiveMs: elu.active,
    eluIdleMs: elu.idle,
  };
}

function setTiming(on: boolean): TimingRecords {
  timing = on;
  socketPrototype.send = on ? sendNotingGets : originalSend;
  cycleStartByAddress.clear();
  const records = timingRecords;
  timingRecords = {};
  return records;
}

async function stop(): Promise<null> {
  clearInterval(discoveryTimer);
  const running = controller;
  controller = undefined;
  await running?.stop();
  return null;
}

async function handle(request: ChildRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'start':
      return start(request);
    case 'waitDiscovered':
      return waitDiscovered(request.timeoutMs);
    case 'sample':
      return sample(request.gc);
    case 'timing':
      return setTiming(request.on);
    case 'stop':
      return stop();
  }
}

process.on('message', (message: ChildRequest) => {
  handle(message).then(
    (result) => process.send?.({ id: message.id, ok: true, result }),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }),
  );
});
// The parent went away: nothing left to measure for.
process.on('disconnect', () => {
  void stop().finally(() => process.exit(0));
});
process.send?.({ id: 0, ok: true, result: 'ready' });
