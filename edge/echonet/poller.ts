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
import { BatchSizeLearner } from './batch-size.js';
import { type Eoj, eojToHex, isHomeAirConditioner } from './eoj.js';
import { ESV } from './esv.js';
import { type Property, allProperties } from './frame.js';
import { byteHex } from './hex.js';
import type { NodeChannel } from './node-channel.js';
import { AirconEpc } from './properties-home-air-conditioner.js';
import { isVendorEpc } from './properties.js';
import { SuperClassEpc } from './properties-super-class.js';
import type { PropertyMap } from './property-map.js';
import { Stagger } from './stagger.js';

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

/** All the poller needs of a node channel. */
export type GetChannel = Pick<NodeChannel, 'get'>;

export interface PollerHooks {
  /** Where to reach the device now; undefined fails this cycle (address unknown or taken by another node). */
  addressOf(deviceId: string): string | undefined;
  channelFor(address: string): GetChannel;
  onValues(result: PollResult): void;
  onSuccess(deviceId: string, at: Date): void;
  onFailure(deviceId: string, error: unknown): void;
}

export interface PollerOptions {
  readonly maxBatchSize: number;
}

interface DeviceState {
  target: PollTarget;
  readonly batchSize: BatchSizeLearner;
  /** Failed cycles in a row; spaces the next cycles out. */
  failures: number;
  timer: NodeJS.Timeout | undefined;
  cycle: Promise<void> | undefined;
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
  private readonly firstPolls = new Stagger(FIRST_POLL_STEP_MS, FIRST_POLL_WINDOW_MS);
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
    const state: DeviceState = { target, batchSize: new BatchSizeLearner(this.options.maxBatchSize), failures: 0, timer: undefined, cycle: undefined };
    this.devices.set(target.deviceId, state);
    this.schedule(state, this.firstPolls.next() - Date.now());
  }

  /** Polls a device now instead of at its next tick (e.g. after it moved or its node answered again). */
  pollSoon(deviceId: string): void {
    const state = this.devices.get(deviceId);
    if (state === undefined || state.cycle !== undefined) return;
    this.schedule(state, 0);
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
    if (this.stopped) return;
    state.failures = answered ? 0 : state.failures + 1;
    state.batchSize.cycleEnded();
    this.schedule(state, Math.max(0, startedAt + pollDelay(state.target.intervalMs, state.failures) - Date.now()));
  }

  /** One cycle; true when the device answered it. */
  private async pollOnce(state: DeviceState): Promise<boolean> {
    const { deviceId, epcs } = state.target;
    const address = this.hooks.addressOf(deviceId);
    if (address === undefined) {
      this.hooks.onFailure(deviceId, new Error('no current address for the device'));
      return false;
    }
    return epcs.length === 0 || (await this.pollDevice(state, address));
  }

  private async pollDevice(state: DeviceState, address: string): Promise<boolean> {
    const { target } = state;
    const collected: Property[] = [];
    let receivedAt: Date | undefined;
    try {
      const queue = [...target.epcs];
      while (queue.length > 0 && !this.stopped) {
        const batch = queue.splice(0, state.batchSize.size);
        const outcome = await this.getBatch(this.hooks.channelFor(address), target.eoj, batch);
        receivedAt = outcome.receivedAt;
        collected.push(...outcome.withData);
        queue.unshift(...this.adaptBatchSize(state, batch, outcome, address));
      }
      if (this.stopped) return false;
      if (collected.length > 0 && receivedAt) this.hooks.onValues({ target, address, properties: collected, receivedAt });
      this.hooks.onSuccess(target.deviceId, receivedAt ?? new Date());
      return true;
    } catch (error) {
      if (this.stopped) return false;
      // Values from batches that did arrive are still real readings.
      if (collected.length > 0 && receivedAt) this.hooks.onValues({ target, address, properties: collected, receivedAt });
      this.hooks.onFailure(target.deviceId, error);
      return false;
    }
  }

  private async getBatch(channel: GetChannel, eoj: Eoj, batch: readonly number[]): Promise<BatchOutcome> {
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
   * Teaches the device's batch size what an answer showed (see batch-size.ts) and returns the EPCs to
   * ask again: the ones a truncated answer left out, or a whole batch refused for its size. Values a
   * Get_SNA did carry are kept either way; each retry is smaller than the batch it repeats, so a
   * cycle always ends.
   */
  private adaptBatchSize(state: DeviceState, batch: readonly number[], outcome: BatchOutcome, address: string): number[] {
    const answeredCount = batch.length - outcome.missing.length;
    let retry: number[] = [];
    if (outcome.missing.length > 0 && answeredCount > 0) {
      state.batchSize.truncated(answeredCount);
      retry = outcome.missing;
    } else if (outcome.refusedAll && batch.length > 1) {
      state.batchSize.refused(batch.length);
      retry = [...batch];
    } else if (outcome.missing.length === 0 && !outcome.refusedAll) {
      state.batchSize.answered(batch.length);
    }
    if (retry.length > 0) {
      this.log.info(
        { deviceId: state.target.deviceId, address, eoj: eojToHex(state.target.eoj), batchSize: state.batchSize.size, retry: retry.map(byteHex).join(',') },
        'echonet device takes fewer EPCs per Get, batch size reduced',
      );
    }
    return retry;
  }
}
