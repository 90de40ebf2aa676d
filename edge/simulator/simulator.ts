/**
 * ECHONET Lite air conditioner simulator: N nodes, each on its own loopback address with a node
 * profile, one home air conditioner and optionally a temperature sensor. Used by tests, the demo, the
 * soak run and installers checking a gateway.
 */
import type { Logger } from '../../shared/log.js';
import type { PropertyValue } from '../../shared/reading.js';
import { deviceIdOf, nodeKeyOf } from '../echonet/device-id.js';
import { type Eoj, eojToHex } from '../echonet/eoj.js';
import { ESV } from '../echonet/esv.js';
import { isSetGetFrame } from '../echonet/frame.js';
import { byteHex, toHex } from '../echonet/hex.js';
import { ECHONET_LITE_PORT, checkInterfaceAddress } from '../echonet/transport.js';
import { consecutiveAddresses } from './addresses.js';
import { type AirconState, initialAirconState, remoteControlChange, reportedAircon } from './aircon-model.js';
import { AIRCON_EOJ } from './device-objects.js';
import { NodeEndpoint } from './node-endpoint.js';
import type { NodeQuirks } from './quirks.js';
import { seededRandom } from '../../shared/random.js';
import { SimulatedNode } from './simulated-node.js';

export { ALL_QUIRKS_PRESET, allQuirksMix, type NodeQuirks, type TimeWindow } from './quirks.js';
export type { AirconState } from './aircon-model.js';

export interface SimulatorOptions {
  /** Interface (by address) multicast goes out on and groups are joined on; 127.0.0.1 on one host. Required. */
  readonly interfaceAddress: string;
  /** Default 1. */
  readonly nodes?: number;
  /**
   * First node's address; the others follow (127.0.0.2, .3, …). Default 127.0.0.2. Nodes with the
   * `moveAfterMs` quirk move to the address `nodes` further on (with 3 nodes from .2: .2 → .5).
   */
  readonly baseAddress?: string;
  readonly port?: number;
  readonly multicastGroup?: string;
  /** Physics step; 0 freezes the units (values change only by Set, `update` or the remote-control quirk). Default 1000. */
  readonly tickMs?: number;
  /** How much simulated time passes per tick, to make rooms cool faster than real time. Default 1. */
  readonly timeScale?: number;
  /** Three bytes hex; default ffffff, the code the MRA reserves for experimental use. */
  readonly makerCode?: string;
  /** Same seed → same identification numbers, start states and remote-control changes. Default 1. */
  readonly seed?: number;
  readonly quirks?: NodeQuirks;
  /** Per node index, merged over `quirks`; `allQuirksMix(nodes, runMs)` gives the soak's mix. */
  readonly nodeQuirks?: Readonly<Record<number, NodeQuirks>>;
  readonly logger: Logger;
}

/** One device object a simulated node hosts, as a controller should record it. */
export interface SimulatedDevice {
  /** Index of the node hosting it. */
  readonly node: number;
  /** Current address (changes when the node moves). */
  readonly address: string;
  readonly eoj: string;
  /** The id a controller should give it; address-based (and so changing with a move) without 0x83. */
  readonly deviceId: string;
}

export interface SimulatedNodeHandle {
  readonly index: number;
  /** Current address (changes with `moveTo` and the `moveAfterMs` quirk). */
  readonly address: string;
  /** Node profile 0x83 hex, or null with the `noIdentificationNumber` quirk. */
  readonly nodeId: string | null;
  /** The air conditioner's EOJ. */
  readonly eoj: string;
  /** The id a controller should give this unit's air conditioner. */
  readonly deviceId: string;
  /** The quirks this node runs with (the simulator's `quirks` merged with its own). */
  readonly quirks: Readonly<NodeQuirks>;
  /** Every device object of the node: the air conditioner first, then a temperature sensor if it has one. */
  devices(): SimulatedDevice[];
  state(): AirconState;
  /** The values a Get would return right now, by property name. */
  reported(): Record<string, PropertyValue>;
  /**
   * What one object (default: the air conditioner, else an EOJ like `001101`) told the controller,
   * oldest first: each Get answer (kind `poll`) and each announcement (kind `inf`, only those that
   * really went out), with the raw EDT per EPC as a reading carries it.
   */
  served(eoj?: string): ServedValues[];
  /** Every Get the node received (answered or not), oldest first: to which object, which EPCs, and whether by multicast. */
  getsReceived(): Array<{ at: Date; eoj: string; epcs: string[]; multicast: boolean }>;
  /** Every SetC the object (default: the air conditioner) received, with its EDTs as hex by EPC: what a controller set. */
  setsReceived(eoj?: string): Array<{ at: Date; raw: Record<string, string> }>;
  /** A change at the unit (remote control, fault); announced by INF where the INF map says so. */
  update(changes: Partial<AirconState>): Promise<void>;
  /** Deaf to every request (INF still goes out) until switched off again. */
  setSilent(silent: boolean): void;
  /** Moves to `address` and announces itself there, unless `options.announce` is false (the boot INF lost, as on Wi-Fi). */
  moveTo(address: string, options?: { readonly announce?: boolean }): Promise<void>;
  /**
   * Restarts the unit with some quirks changed (same identity and state), e.g. `{ vendorEpcs: true }`
   * for a firmware update that changes its Get map; it announces itself anew (INF 0xD5).
   */
  reboot(changes: NodeQuirks): Promise<void>;
}

export interface ServedValues {
  readonly at: Date;
  readonly kind: 'poll' | 'inf';
  /** EDT hex by EPC (two lowercase hex digits); refused EPCs (PDC 0) are not values and are left out. */
  readonly raw: Readonly<Record<string, string>>;
}

export interface SimulatorHandle {
  readonly nodes: readonly SimulatedNodeHandle[];
  /** When the simulator started: the zero of the timed quirks' windows. */
  readonly startedAt: Date;
  /** Every device object of every node. */
  devices(): SimulatedDevice[];
  /** Two units swap addresses (both leave, then each comes up at the other's and announces itself). */
  swapAddresses(a: number, b: number): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_MAKER_CODE = 'ffffff';
/** MoekadenRoom's 0x83: 0xFE and sixteen zero bytes. */
const PLACEHOLDER_ID = `fe${'00'.repeat(16)}`;

function identificationNumber(makerCode: string, random: () => number, index: number): string {
  const unique = Array.from({ length: 9 }, () => Math.floor(random() * 256));
  const indexBytes = [index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff];
  return `fe${makerCode}${Buffer.from([...unique, ...indexBytes]).toString('hex')}`;
}

/** Callers see only `SimulatedNodeHandle`; node and endpoint stay reachable for the simulator itself. */
class NodeHandle implements SimulatedNodeHandle {
  readonly eoj = eojToHex(AIRCON_EOJ);

  constructor(
    readonly index: number,
    public node: SimulatedNode,
    readonly endpoint: NodeEndpoint,
    public quirks: Readonly<NodeQuirks>,
    private readonly makerCode: string,
  ) {}
  get address(): string {
    return this.endpoint.address;
  }
  get nodeId(): string | null {
    return this.node.nodeId;
  }
  get deviceId(): string {
    return this.deviceIdOf(AIRCON_EOJ);
  }
  devices(): SimulatedDevice[] {
    return this.node.devices.map(({ eoj }) => ({ node: this.index, address: this.address, eoj: eojToHex(eoj), deviceId: this.deviceIdOf(eoj) }));
  }
  state(): AirconState {
    return this.node.state;
  }
  reported(): Record<string, PropertyValue> {
    return reportedAircon(this.node.state);
  }
  served(eoj: string = this.eoj): ServedValues[] {
    return this.endpoint.journal.flatMap(({ at, frame }) => {
      if (eojToHex(frame.seoj) !== eoj || isSetGetFrame(frame)) return [];
      const kind = frame.esv === ESV.Inf ? 'inf' : frame.esv === ESV.GetRes || frame.esv === ESV.GetSna ? 'poll' : undefined;
      if (kind === undefined) return [];
      const raw = Object.fromEntries(frame.properties.filter((p) => p.edt.length > 0).map((p) => [byteHex(p.epc), toHex(p.edt)]));
      return [{ at, kind, raw }];
    });
  }
  getsReceived(): Array<{ at: Date; eoj: string; epcs: string[]; multicast: boolean }> {
    return this.endpoint.received.flatMap(({ at, via, frame }) => {
      if (frame.esv !== ESV.Get) return [];
      return [{ at, eoj: eojToHex(frame.deoj), epcs: frame.properties.map((p) => byteHex(p.epc)), multicast: via !== 'unicast' }];
    });
  }
  /** Every SetC the node received for `eoj`, with its EDTs as hex by EPC: what a controller set. */
  setsReceived(eoj: string = this.eoj): Array<{ at: Date; raw: Record<string, string> }> {
    return this.endpoint.received.flatMap(({ at, frame }) => {
      if (frame.esv !== ESV.SetC || isSetGetFrame(frame) || eojToHex(frame.deoj) !== eoj) return [];
      return [{ at, raw: Object.fromEntries(frame.properties.map((p) => [byteHex(p.epc), toHex(p.edt)])) }];
    });
  }
  update(changes: Partial<AirconState>): Promise<void> {
    return this.endpoint.multicast(this.node.update(changes));
  }
  setSilent(silent: boolean): void {
    this.endpoint.silent = silent;
  }
  moveTo(address: string, options: { readonly announce?: boolean } = {}): Promise<void> {
    return this.endpoint.moveTo(address, options.announce ?? true);
  }
  async reboot(changes: NodeQuirks): Promise<void> {
    this.quirks = { ...this.quirks, ...changes };
    this.node = new SimulatedNode(this.node.nodeId, this.makerCode, this.node.state, this.quirks);
    await this.endpoint.reboot(this.node);
  }
  private deviceIdOf(eoj: Eoj): string {
    return deviceIdOf(nodeKeyOf(this.node.nodeId, this.endpoint.address), eoj);
  }
}

/** The timers behind the timed quirks (move, remote control), cleared together when the simulator stops. */
class QuirkTimers {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly log: Logger) {}

  once(delayMs: number, what: string, action: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.run(what, action);
    }, delayMs);
    this.timers.add(timer);
  }

  every(periodMs: number, what: string, action: () => Promise<void>): void {
    this.timers.add(setInterval(() => this.run(what, action), periodMs));
  }

  clear(): void {
    for (const timer of this.timers) clearTimeout(timer); // clears intervals too
    this.timers.clear();
  }

  private run(what: string, action: () => Promise<void>): void {
    action().catch((error: unknown) => this.log.warn({ err: error, quirk: what }, 'simulated quirk failed'));
  }
}

/** The quirks that involve other nodes: swaps and address take-overs. */
function scheduleNeighbourQuirks(handles: readonly NodeHandle[], startAddresses: readonly string[], timers: QuirkTimers, swap: (a: number, b: number) => Promise<void>, log: Logger): void {
  for (const handle of handles) {
    const { swapAfterMs, takeOverAddressOf } = handle.quirks;
    if (swapAfterMs !== undefined && handles[handle.index + 1] !== undefined) timers.once(swapAfterMs, 'swapAfterMs', () => swap(handle.index, handle.index + 1));
    const target = takeOverAddressOf === undefined ? undefined : handles[takeOverAddressOf.node];
    const address = takeOverAddressOf === undefined ? undefined : startAddresses[takeOverAddressOf.node];
    if (takeOverAddressOf === undefined || target === undefined || address === undefined) continue;
    timers.once(takeOverAddressOf.afterMs, 'takeOverAddressOf', async () => {
      if (target.address === address) return; // it has not left
      const from = handle.address;
      await handle.moveTo(address);
      log.info({ node: handle.index, from, address, deviceId: handle.deviceId }, 'simulated air conditioner took over an address another unit left');
    });
  }
}

function scheduleTimedQuirks(handle: NodeHandle, spareAddress: () => string, timers: QuirkTimers, random: () => number, log: Logger): void {
  const { quirks } = handle;
  if (quirks.moveAfterMs !== undefined) {
    timers.once(quirks.moveAfterMs, 'moveAfterMs', async () => {
      const from = handle.address;
      await handle.moveTo(spareAddress());
      log.info({ node: handle.index, from, address: handle.address, deviceId: handle.deviceId }, 'simulated air conditioner moved');
    });
  }
  if (quirks.remoteControlEveryMs !== undefined) {
    timers.every(quirks.remoteControlEveryMs, 'remoteControlEveryMs', () => handle.update(remoteControlChange(handle.state(), random)));
  }
}

export async function startSimulator(options: SimulatorOptions): Promise<SimulatorHandle> {
  checkInterfaceAddress(options.interfaceAddress, 'interfaceAddress');
  const count = options.nodes ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`nodes must be a positive integer, got ${count}`);
  const makerCode = (options.makerCode ?? DEFAULT_MAKER_CODE).toLowerCase();
  if (!/^[0-9a-f]{6}$/.test(makerCode)) throw new RangeError(`makerCode must be 6 hex digits, got ${makerCode}`);
  const random = seededRandom(options.seed ?? 1);
  const baseAddress = options.baseAddress ?? '127.0.0.2';
  const addresses = consecutiveAddresses(baseAddress, count);
  const spareAddress = (index: number) => (): string => consecutiveAddresses(baseAddress, 2 * count)[count + index] as string;
  const log = options.logger;
  const startedAt = new Date();
  const elapsedMs = (): number => Date.now() - startedAt.getTime();
  const timers = new QuirkTimers(log);

  const handles: NodeHandle[] = [];
  const stopAll = async (): Promise<void> => {
    timers.clear();
    await Promise.allSettled(handles.map((h) => h.endpoint.close()));
  };
  try {
    for (const [index, address] of addresses.entries()) {
      const quirks: NodeQuirks = { ...options.quirks, ...options.nodeQuirks?.[index] };
      const nodeId = quirks.noIdentificationNumber ? null : quirks.placeholderIdentificationNumber ? PLACEHOLDER_ID : identificationNumber(makerCode, random, index);
      const node = new SimulatedNode(nodeId, makerCode, initialAirconState(random), quirks);
      const endpoint = new NodeEndpoint(
        node,
        {
          address,
          interfaceAddress: options.interfaceAddress,
          port: options.port ?? ECHONET_LITE_PORT,
          ...(options.multicastGroup ? { multicastGroup: options.multicastGroup } : {}),
          logger: log.child({ node: index }),
          random,
          elapsedMs,
        },
        quirks,
      );
      const handle = new NodeHandle(index, node, endpoint, quirks, makerCode);
      handles.push(handle);
      await endpoint.open();
      scheduleTimedQuirks(handle, spareAddress(index), timers, random, log);
      log.info({ node: index, address, nodeId, deviceId: handle.deviceId, devices: handle.devices().map((d) => d.deviceId), quirks }, 'simulated air conditioner up');
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const swapAddresses = async (a: number, b: number): Promise<void> => {
    const first = handles[a];
    const second = handles[b];
    if (first === undefined || second === undefined || a === b) throw new RangeError(`no two distinct nodes ${a} and ${b}`);
    const [addressA, addressB] = [first.address, second.address];
    await Promise.all([first.endpoint.close(), second.endpoint.close()]);
    await Promise.all([first.endpoint.reopenAt(addressB), second.endpoint.reopenAt(addressA)]);
    log.info({ nodes: [a, b], addresses: [addressB, addressA] }, 'simulated air conditioners swapped addresses');
  };
  scheduleNeighbourQuirks(handles, addresses, timers, swapAddresses, log);

  const tickMs = options.tickMs ?? 1_000;
  const timeScale = options.timeScale ?? 1;
  const ticker =
    tickMs > 0
      ? setInterval(() => {
          for (const handle of handles) void handle.endpoint.multicast(handle.node.advance(tickMs * timeScale));
        }, tickMs)
      : undefined;

  return {
    nodes: handles,
    startedAt,
    devices: () => handles.flatMap((h) => h.devices()),
    swapAddresses,
    async stop() {
      clearInterval(ticker);
      await stopAll();
      log.info('simulator stopped');
    },
  };
}
