/**
 * The loopback rig of the ECHONET Lite integration tests: simulated air conditioners on 127.0.0.2
 * and up, the controller on 127.0.0.1, multicast pinned to 127.0.0.1, each test on a random port so
 * test files can run in parallel processes. What a test opens is stopped after it: register
 * `afterEach(stopOpened)` in the test file.
 */
import { type DeviceEvent, type EchonetControllerOptions, EchonetController } from '../../edge/echonet/controller.js';
import { type SimulatorHandle, type SimulatorOptions, startSimulator } from '../../edge/simulator/simulator.js';
import { silentLogger } from '../../shared/log.js';
import type { Observation } from '../../shared/reading.js';

export const INTERFACE = '127.0.0.1';
export const logger = silentLogger();

const opened: Array<() => Promise<void>> = [];

/** Stops `stop` after the test, in reverse order of opening (controllers before the nodes they talk to). */
export function stopAfterTest(stop: () => Promise<void>): void {
  opened.push(stop);
}

export async function stopOpened(): Promise<void> {
  for (const stop of opened.splice(0).reverse()) await stop();
}

/** Runs `start` on random ports until one is free (test files run in parallel). */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await start(20_000 + Math.floor(Math.random() * 20_000));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw error;
    }
  }
}

/** Three frozen units (no physics: values change only by Set or `update`) from 127.0.0.2, unless told otherwise. */
export async function openSimulator(port: number, options: Partial<SimulatorOptions> = {}): Promise<SimulatorHandle> {
  const sim = await startSimulator({ interfaceAddress: INTERFACE, nodes: 3, baseAddress: '127.0.0.2', port, tickMs: 0, logger, ...options });
  stopAfterTest(() => sim.stop());
  return sim;
}

export interface ControllerRig {
  readonly port: number;
  readonly controller: EchonetController;
  readonly observations: Observation[];
  readonly events: DeviceEvent[];
}

export interface Rig extends ControllerRig {
  readonly sim: SimulatorHandle;
}

/** A started controller on fast test timings (200 ms polls, short searches), recording what it emits. */
export async function openController(port: number, options: Partial<EchonetControllerOptions> = {}): Promise<ControllerRig> {
  const controller = new EchonetController({
    interfaceAddress: INTERFACE,
    port,
    searchIntervalMs: 2_000,
    searchWindowMs: 200,
    pollIntervalMs: 200,
    requestTimeoutMs: 250,
    maxRetries: 1,
    retryBaseDelayMs: 50,
    logger,
    ...options,
  });
  const observations: Observation[] = [];
  const events: DeviceEvent[] = [];
  controller.on('observation', (o) => observations.push(o));
  controller.on('device', (e) => events.push(e));
  stopAfterTest(() => controller.stop());
  await controller.start();
  return { port, controller, observations, events };
}

/** A simulator and a controller on one free port. */
export function startRig(simOptions: Partial<SimulatorOptions> = {}, controllerOptions: Partial<EchonetControllerOptions> = {}): Promise<Rig> {
  return onFreePort(async (port) => {
    const sim = await openSimulator(port, simOptions);
    return { sim, ...(await openController(port, controllerOptions)) };
  });
}

/** Poll readings of a device since `since` (ms since 1970). */
export function pollCount(rig: ControllerRig, deviceId: string, since = 0): number {
  return rig.observations.filter((o) => o.deviceId === deviceId && o.kind === 'poll' && Date.parse(o.ts) >= since).length;
}
