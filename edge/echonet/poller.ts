/**
 * Periodic Get of each device's properties. Per device: one cycle at a time, EPCs batched (at most
 * `maxBatchSize` per Get, fewer once a device showed it cannot take that many), values of a cycle
 * merged into one result. Devices are independent timers, and requests go through their node's
 * channel, so a silent device only delays its own node.
 */
import type { Logger } from '../../shared/log.js';
import { type Eoj, eojToHex } from './eoj.js';
import { ESV } from './esv.js';
import { type Property, allProperties } from './frame.js';
import { byteHex } from './hex.js';
import type { NodeChannel } from './node-channel.js';
import { AirconEpc } from './properties-home-air-conditioner.js';
import { SuperClassEpc } from './properties-super-class.js';
import type { PropertyMap } from './property-map.js';

/** What we poll on a home air conditioner, in order of importance (the first batch gets these first). */
export const AIRCON_POLL_EPCS: readonly number[] = [
  SuperClassEpc.operationStatus,
  AirconEpc.targetTemperature,
  AirconEpc.roomTemperature,
  AirconEpc.operationMode,
  AirconEpc.humidity,
  AirconEpc.outdoorTemperature,
  AirconEpc.airFlowLevel,
  SuperClassEpc.instantaneousElectricPowerConsumption,
  SuperClassEpc.consumedCumulativeElectricEnergy,
  SuperClassEpc.faultStatus,
];

/** The wanted EPCs the device says it supports; without a readable Get map, ask for all (Get_SNA sorts it out). */
export function pollPlan(wanted: readonly number[], getMap: PropertyMap | null): number[] {
  if (getMap === null) return [...wanted];
  const supported = new Set(getMap);
  return wanted.filter((epc) => supported.has(epc));
}

export interface PollTarget {
  readonly deviceId: string;
  readonly eoj: Eoj;
  readonly epcs: readonly number[];
}

export interface PollResult {
  readonly target: PollTarget;
  readonly address: string;
  /** Only EPCs that came with data; refused ones (PDC 0) are left out. */
  readonly properties: readonly Property[];
  readonly receivedAt: Date;
}

export interface PollerHooks {
  /** Where to reach the device now; undefined fails this cycle (address unknown or taken by another node). */
  addressOf(deviceId: string): string | undefined;
  channelFor(address: string): NodeChannel;
  onValues(result: PollResult): void;
  onSuccess(deviceId: string, at: Date): void;
  onFailure(deviceId: string, error: unknown): void;
}

export interface PollerOptions {
  readonly intervalMs: number;
  readonly maxBatchSize: number;
}

interface DeviceState {
  target: PollTarget;
  batchSize: number;
  timer: NodeJS.Timeout | undefined;
  cycle: Promise<void> | undefined;
  removed: boolean;
}

interface BatchOutcome {
  readonly withData: Property[];
  /** Requested EPCs the answer did not mention at all: the device truncated the list. */
  readonly missing: number[];
  readonly refusedAll: boolean;
  readonly receivedAt: Date;
}

export class Poller {
  private readonly devices = new Map<string, DeviceState>();
  private stopped = false;

  constructor(
    private readonly hooks: PollerHooks,
    private readonly options: PollerOptions,
    private readonly log: Logger,
  ) {}

  /** Starts polling a device, or updates what is polled if it is already known. */
  add(target: PollTarget): void {
    if (this.stopped) return;
    const existing = this.devices.get(target.deviceId);
    if (existing) {
      existing.target = target;
      return;
    }
    const state: DeviceState = { target, batchSize: this.options.maxBatchSize, timer: undefined, cycle: undefined, removed: false };
    this.devices.set(target.deviceId, state);
    this.schedule(state, 0);
  }

  /** Polls a device now instead of at its next tick (e.g. after it moved). */
  pollSoon(deviceId: string): void {
    const state = this.devices.get(deviceId);
    if (state === undefined || state.cycle !== undefined) return;
    this.schedule(state, 0);
  }

  remove(deviceId: string): void {
    const state = this.devices.get(deviceId);
    if (state === undefined) return;
    state.removed = true;
    clearTimeout(state.timer);
    this.devices.delete(deviceId);
  }

  /** Stops every timer; resolves when cycles in flight have ended (their requests fail once channels close). */
  async stop(): Promise<void> {
    this.stopped = true;
    const cycles: Array<Promise<void>> = [];
    for (const state of this.devices.values()) {
      state.removed = true;
      clearTimeout(state.timer);
      if (state.cycle) cycles.push(state.cycle);
    }
    this.devices.clear();
    await Promise.allSettled(cycles);
  }

  private schedule(state: DeviceState, delayMs: number): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      state.timer = undefined;
      state.cycle = this.runCycle(state).finally(() => (state.cycle = undefined));
    }, delayMs);
  }

  private async runCycle(state: DeviceState): Promise<void> {
    const startedAt = Date.now();
    const { deviceId } = state.target;
    const address = this.hooks.addressOf(deviceId);
    if (address === undefined) this.hooks.onFailure(deviceId, new Error('no current address for the device'));
    else if (state.target.epcs.length > 0) await this.pollDevice(state, address);
    if (state.removed || this.stopped) return;
    this.schedule(state, Math.max(0, startedAt + this.options.intervalMs - Date.now()));
  }

  private async pollDevice(state: DeviceState, address: string): Promise<void> {
    const { target } = state;
    const collected: Property[] = [];
    let receivedAt: Date | undefined;
    try {
      const queue = [...target.epcs];
      while (queue.length > 0 && !state.removed) {
        const batch = queue.splice(0, state.batchSize);
        const outcome = await this.getBatch(this.hooks.channelFor(address), target.eoj, batch);
        receivedAt = outcome.receivedAt;
        collected.push(...outcome.withData);
        queue.unshift(...this.adaptBatchSize(state, batch, outcome, address));
      }
      if (state.removed) return;
      if (collected.length > 0 && receivedAt) this.hooks.onValues({ target, address, properties: collected, receivedAt });
      this.hooks.onSuccess(target.deviceId, receivedAt ?? new Date());
    } catch (error) {
      if (state.removed) return;
      // Values from batches that did arrive are still real readings.
      if (collected.length > 0 && receivedAt) this.hooks.onValues({ target, address, properties: collected, receivedAt });
      this.hooks.onFailure(target.deviceId, error);
    }
  }

  private async getBatch(channel: NodeChannel, eoj: Eoj, batch: readonly number[]): Promise<BatchOutcome> {
    const received = await channel.get(eoj, batch);
    const asked = new Set(batch);
    const answered = allProperties(received.frame).filter((p) => asked.has(p.epc));
    const mentioned = new Set(answered.map((p) => p.epc));
    const withData = answered.filter((p) => p.edt.length > 0);
    return {
      withData,
      missing: batch.filter((epc) => !mentioned.has(epc)),
      refusedAll: received.frame.esv === ESV.GetSna && withData.length === 0,
      receivedAt: received.receivedAt,
    };
  }

  /**
   * Learns from an answer how many EPCs the device takes per Get, and returns EPCs to ask again.
   * Truncated answer → the device's limit is what it answered. Everything refused in a batch of several
   * → some devices refuse big batches wholesale, so halve and ask again. Either way the smaller size
   * sticks for this device: probing upwards again would cost a failed request every cycle.
   */
  private adaptBatchSize(state: DeviceState, batch: readonly number[], outcome: BatchOutcome, address: string): number[] {
    const answeredCount = batch.length - outcome.missing.length;
    let retry: number[] = [];
    if (outcome.missing.length > 0 && answeredCount > 0) {
      state.batchSize = Math.max(1, Math.min(state.batchSize, answeredCount));
      retry = outcome.missing;
    } else if (outcome.refusedAll && batch.length > 1) {
      state.batchSize = Math.max(1, Math.floor(batch.length / 2));
      retry = [...batch];
    }
    if (retry.length > 0) {
      this.log.info(
        { deviceId: state.target.deviceId, address, eoj: eojToHex(state.target.eoj), batchSize: state.batchSize, retry: retry.map(byteHex).join(',') },
        'echonet device takes fewer EPCs per Get, batch size reduced',
      );
    }
    return retry;
  }
}
