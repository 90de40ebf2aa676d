/**
 * Periodic Get of each device's properties. Per device: one cycle at a time, EPCs batched (at most
 * `maxBatchSize` per Get, fewer once a device showed it cannot take that many), values of a cycle
 * merged into one result. Each device has one timer, set from the start of its last cycle (so the
 * cadence does not drift by the time a cycle takes); requests go through the node's channel, so a
 * silent device only delays its own node. A device that fails is polled less often, never given up.
 * Devices keep the phase of their first poll, and first polls are staggered, so the devices of a
 * site found together are not polled in the same instant, cycle after cycle.
 */
import type { Logger } from '../../shared/log.js';
import { type BatchSizeSnapshot, BatchSizeLearner } from './batch-size.js';
import { type Eoj, eojToHex, isHomeAirConditioner } from './eoj.js';
import type { Property } from './frame.js';
import type { Binding } from './node-table.js';
import { type CycleDevice, type DevicePollStats, type GetChannel, PollCycle, freshPollStats } from './poll-cycle.js';
import { AirconEpc } from './properties-home-air-conditioner.js';
import { isVendorEpc } from './properties.js';
import { SuperClassEpc } from './properties-super-class.js';
import type { PropertyMap } from './property-map.js';
import { Stagger } from './stagger.js';
import { UnsupportedEpcs } from './unsupported-epcs.js';

export type { GetChannel } from './poll-cycle.js';

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

/** Identity and property maps: fixed for a device's life, read at discovery, not worth polling. */
const DESCRIPTIVE_EPCS: ReadonlySet<number> = new Set([
  SuperClassEpc.protocol,
  SuperClassEpc.id,
  SuperClassEpc.manufacturer,
  SuperClassEpc.businessFacilityCode,
  SuperClassEpc.productCode,
  SuperClassEpc.productionNumber,
  SuperClassEpc.productionDate,
  SuperClassEpc.statusChangeAnnouncementPropertyMap,
  SuperClassEpc.setPropertyMap,
  SuperClassEpc.getPropertyMap,
]);

/** Get-required of every device object (APPENDIX chapter 2), for objects whose Get map we could not read. */
const REQUIRED_STATUS_EPCS: readonly number[] = [SuperClassEpc.operationStatus, SuperClassEpc.faultStatus];

/**
 * An air conditioner's poll: the properties we name that its Get map lists, most important first (so
 * they go in the first Get), then the maker's own EPCs (0xF0–0xFF) it lists, recorded raw. Without a
 * readable Get map, the named ones (Get_SNA sorts out what it lacks; vendor EPCs cannot be guessed).
 */
function airconPollPlan(getMap: PropertyMap | null): number[] {
  if (getMap === null) return [...AIRCON_POLL_EPCS];
  const supported = new Set(getMap);
  return [...AIRCON_POLL_EPCS.filter((epc) => supported.has(epc)), ...getMap.filter(isVendorEpc)];
}

/**
 * What to poll on an object. Air conditioners: see airconPollPlan. Any other class: everything its
 * Get map lists except identity and maps, so its raw values are recorded and codecs for it can be
 * written from real data; these objects are polled rarely.
 */
export function pollPlanFor(eoj: Eoj, getMap: PropertyMap | null): number[] {
  if (isHomeAirConditioner(eoj)) return airconPollPlan(getMap);
  if (getMap === null) return [...REQUIRED_STATUS_EPCS];
  return getMap.filter((epc) => !DESCRIPTIVE_EPCS.has(epc));
}

/** First polls at least this far apart, and within two seconds of a device's discovery (a hundred fit). */
export const FIRST_POLL_STEP_MS = 20;
const FIRST_POLL_WINDOW_MS = 2_000;

/** A failing device is polled at most this many intervals apart: rarely enough to cost little, often enough to notice its return. */
export const MAX_POLL_BACKOFF_FACTOR = 8;

/** Delay from the start of one cycle to the next, after `failures` failed cycles in a row: 1, 1, 2, 4, 8, 8 … intervals. */
export function pollDelay(intervalMs: number, failures: number): number {
  const factor = failures <= 1 ? 1 : Math.min(MAX_POLL_BACKOFF_FACTOR, 2 ** (failures - 1));
  return intervalMs * factor;
}

export interface PollTarget {
  readonly deviceId: string;
  readonly eoj: Eoj;
  readonly epcs: readonly number[];
  readonly intervalMs: number;
}

export interface PollResult {
  readonly target: PollTarget;
  readonly address: string;
  /** Only EPCs that came with data; refused ones (PDC 0) are left out. */
  readonly properties: readonly Property[];
  readonly receivedAt: Date;
}

export interface PollerHooks {
  /**
   * The device's address bound to its node (node-table.ts); undefined fails this cycle (address
   * unknown, or another node answers there).
   */
  bindingOf(deviceId: string): Binding | undefined;
  /** Whether the node at the binding's address is still the one it was made for. */
  isBound(binding: Binding): boolean;
  channelFor(address: string): GetChannel;
  onValues(result: PollResult): void;
  onSuccess(deviceId: string, at: Date): void;
  onFailure(deviceId: string, error: unknown): void;
}

export interface PollerOptions {
  readonly maxBatchSize: number;
}

/** What a device taught the poller about itself, by device id (so by node identity, never by address). */
export interface LearnedLimits {
  readonly batchSize: BatchSizeSnapshot;
  /** EPCs the device refused on their own, left out of its polls for now. */
  readonly unsupported: readonly number[];
}

/** A device's polling as the poller sees it, for metrics. */
export interface DevicePollView {
  readonly deviceId: string;
  readonly batchSize: number;
  readonly unsupportedEpcs: readonly number[];
  readonly stats: Readonly<DevicePollStats>;
}

interface DeviceState extends CycleDevice {
  target: PollTarget;
  /** Failed cycles in a row; spaces the next cycles out. */
  failures: number;
  timer: NodeJS.Timeout | undefined;
  cycle: Promise<void> | undefined;
}

export class Poller {
  private readonly devices = new Map<string, DeviceState>();
  private readonly firstPolls = new Stagger(FIRST_POLL_STEP_MS, FIRST_POLL_WINDOW_MS);
  private stopped = false;

  constructor(
    private readonly hooks: PollerHooks,
    private readonly options: PollerOptions,
    private readonly log: Logger,
  ) {}

  /**
   * Starts polling a device, or updates what is polled if it is already known. `learned` restores
   * what an earlier run learned of it (a persisted device).
   */
  add(target: PollTarget, learned?: LearnedLimits): void {
    if (this.stopped) return;
    const existing = this.devices.get(target.deviceId);
    if (existing) {
      existing.target = target;
      return;
    }
    const unsupported = new UnsupportedEpcs();
    for (const epc of learned?.unsupported ?? []) unsupported.refused(epc);
    const state: DeviceState = {
      target,
      eoj: target.eoj,
      batchSize: new BatchSizeLearner(this.options.maxBatchSize, undefined, learned?.batchSize),
      unsupported,
      stats: freshPollStats(),
      failures: 0,
      timer: undefined,
      cycle: undefined,
    };
    this.devices.set(target.deviceId, state);
    this.schedule(state, this.firstPolls.next() - Date.now());
  }

  /** Stops polling a device (its node no longer lists it); a cycle in flight ends on its own. */
  remove(deviceId: string): void {
    const state = this.devices.get(deviceId);
    if (state === undefined) return;
    clearTimeout(state.timer);
    this.devices.delete(deviceId);
  }

  has(deviceId: string): boolean {
    return this.devices.has(deviceId);
  }

  /** Polls a device now instead of at its next tick (e.g. after it moved or its node answered again). */
  pollSoon(deviceId: string): void {
    const state = this.devices.get(deviceId);
    if (state === undefined || state.cycle !== undefined) return;
    this.schedule(state, 0);
  }

  /**
   * A Get of the node's id, asked before polling the device because its node had to confirm who it
   * is at its address: the device's request, so its silence shows in its counters as a poll's would.
   */
  countIdentityCheck(deviceId: string, retries: number, answered: boolean): void {
    const stats = this.devices.get(deviceId)?.stats;
    if (stats === undefined) return;
    stats.requests += 1;
    stats.retries += retries;
    if (answered) stats.answers += 1;
    else stats.timeouts += 1;
  }

  learned(deviceId: string): LearnedLimits | undefined {
    const state = this.devices.get(deviceId);
    return state && { batchSize: state.batchSize.snapshot(), unsupported: state.unsupported.list() };
  }

  views(): DevicePollView[] {
    return [...this.devices.entries()].map(([deviceId, state]) => ({
      deviceId,
      batchSize: state.batchSize.size,
      unsupportedEpcs: state.unsupported.list(),
      stats: { ...state.stats },
    }));
  }

  /** Stops every timer; resolves when cycles in flight have ended (their requests fail once channels close). */
  async stop(): Promise<void> {
    this.stopped = true;
    const cycles: Array<Promise<void>> = [];
    for (const state of this.devices.values()) {
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
    const answered = await this.pollOnce(state);
    if (this.stopped || this.devices.get(state.target.deviceId) !== state) return;
    if (answered !== undefined) state.failures = answered ? 0 : state.failures + 1;
    state.batchSize.cycleEnded();
    state.unsupported.cycleEnded();
    this.schedule(state, Math.max(0, startedAt + pollDelay(state.target.intervalMs, state.failures) - Date.now()));
  }

  /** One cycle; true when the device answered it, undefined when it moved away during it (neither). */
  private async pollOnce(state: DeviceState): Promise<boolean | undefined> {
    const { target } = state;
    const binding = this.hooks.bindingOf(target.deviceId);
    if (binding === undefined) {
      this.hooks.onFailure(target.deviceId, new Error('no current address for the device'));
      return false;
    }
    if (target.epcs.length === 0) return true;
    const failing = state.failures >= 2;
    const cycle = new PollCycle(this.hooks.channelFor(binding.address), state, target.epcs, () => this.hooks.isBound(binding), () => this.stopped, failing);
    const sizeBefore = state.batchSize.size;
    const result = await cycle.run();
    if (this.stopped) return false;
    if (state.batchSize.size !== sizeBefore) {
      this.log.info(
        { deviceId: target.deviceId, address: binding.address, eoj: eojToHex(target.eoj), batchSize: state.batchSize.size, before: sizeBefore },
        'echonet device takes a different number of EPCs per Get, batch size changed',
      );
    }
    // Values from answers that did arrive (from the device's own node) are real readings.
    if (result.properties.length > 0 && result.receivedAt) {
      this.hooks.onValues({ target, address: binding.address, properties: result.properties, receivedAt: result.receivedAt });
    }
    if (result.answered) {
      this.hooks.onSuccess(target.deviceId, result.receivedAt ?? new Date());
      return true;
    }
    if (result.lostBinding) return undefined;
    this.hooks.onFailure(target.deviceId, result.error);
    return false;
  }
}
