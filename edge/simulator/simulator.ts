/**
 * ECHONET Lite air conditioner simulator: N nodes, each on its own loopback address with a node
 * profile and one home air conditioner. Used by tests, the demo and installers checking a gateway.
 */
import type { Logger } from '../../shared/log.js';
import type { PropertyValue } from '../../shared/reading.js';
import { eojToHex, sameEoj } from '../echonet/eoj.js';
import { ESV } from '../echonet/esv.js';
import { isSetGetFrame } from '../echonet/frame.js';
import { byteHex, toHex } from '../echonet/hex.js';
import { ECHONET_LITE_PORT } from '../echonet/transport.js';
import { consecutiveAddresses } from './addresses.js';
import { type AirconState, initialAirconState, reportedAircon } from './aircon-model.js';
import { AIRCON_EOJ } from './device-objects.js';
import { NodeEndpoint } from './node-endpoint.js';
import type { NodeQuirks } from './quirks.js';
import { seededRandom } from './random.js';
import { SimulatedNode } from './simulated-node.js';

export type { NodeQuirks } from './quirks.js';
export type { AirconState } from './aircon-model.js';

export interface SimulatorOptions {
  /** Interface (by address) multicast goes out on and groups are joined on; 127.0.0.1 on one host. Required. */
  readonly interfaceAddress: string;
  /** Default 1. */
  readonly nodes?: number;
  /** First node's address; the others follow (127.0.0.2, .3, …). Default 127.0.0.2. */
  readonly baseAddress?: string;
  readonly port?: number;
  readonly multicastGroup?: string;
  /** Physics step; 0 freezes the units (values change only by Set or `update`). Default 1000. */
  readonly tickMs?: number;
  /** How much simulated time passes per tick, to make rooms cool faster than real time. Default 1. */
  readonly timeScale?: number;
  /** Three bytes hex; default ffffff, the code the MRA reserves for experimental use. */
  readonly makerCode?: string;
  /** Same seed → same identification numbers and start states. Default 1. */
  readonly seed?: number;
  readonly quirks?: NodeQuirks;
  /** Per node index, merged over `quirks`. */
  readonly nodeQuirks?: Readonly<Record<number, NodeQuirks>>;
  readonly logger: Logger;
}

export interface SimulatedNodeHandle {
  readonly index: number;
  /** Current address (changes with `moveTo`). */
  readonly address: string;
  /** Node profile 0x83 hex, or null with the `noIdentificationNumber` quirk. */
  readonly nodeId: string | null;
  readonly eoj: string;
  /** The id a controller should give this unit's air conditioner. */
  readonly deviceId: string;
  state(): AirconState;
  /** The values a Get would return right now, by property name. */
  reported(): Record<string, PropertyValue>;
  /**
   * What the air conditioner object told the controller, oldest first: each Get answer (kind
   * `poll`) and each announcement (kind `inf`), with the raw EDT per EPC as a reading carries it.
   */
  served(): ServedValues[];
  /** A change at the unit (remote control, fault); announced by INF where the INF map says so. */
  update(changes: Partial<AirconState>): Promise<void>;
  setSilent(silent: boolean): void;
  moveTo(address: string): Promise<void>;
}

export interface ServedValues {
  readonly at: Date;
  readonly kind: 'poll' | 'inf';
  /** EDT hex by EPC (two lowercase hex digits); refused EPCs (PDC 0) are not values and are left out. */
  readonly raw: Readonly<Record<string, string>>;
}

export interface SimulatorHandle {
  readonly nodes: readonly SimulatedNodeHandle[];
  stop(): Promise<void>;
}

export const DEFAULT_MAKER_CODE = 'ffffff';

function identificationNumber(makerCode: string, random: () => number, index: number): string {
  const unique = Array.from({ length: 9 }, () => Math.floor(random() * 256));
  const indexBytes = [index >>> 24, (index >>> 16) & 0xff, (index >>> 8) & 0xff, index & 0xff];
  return `fe${makerCode}${Buffer.from([...unique, ...indexBytes]).toString('hex')}`;
}

/** Callers see only `SimulatedNodeHandle`; node and endpoint stay reachable for the simulator itself. */
class NodeHandle implements SimulatedNodeHandle {
  constructor(
    readonly index: number,
    readonly node: SimulatedNode,
    readonly endpoint: NodeEndpoint,
  ) {}
  get address(): string {
    return this.endpoint.address;
  }
  get nodeId(): string | null {
    return this.node.nodeId;
  }
  readonly eoj = eojToHex(AIRCON_EOJ);
  get deviceId(): string {
    return `${this.node.nodeId ?? this.endpoint.address}-${this.eoj}`;
  }
  state(): AirconState {
    return this.node.state;
  }
  reported(): Record<string, PropertyValue> {
    return reportedAircon(this.node.state);
  }
  served(): ServedValues[] {
    return this.endpoint.journal.flatMap(({ at, frame }) => {
      if (!sameEoj(frame.seoj, AIRCON_EOJ) || isSetGetFrame(frame)) return [];
      const kind = frame.esv === ESV.Inf ? 'inf' : frame.esv === ESV.GetRes || frame.esv === ESV.GetSna ? 'poll' : undefined;
      if (kind === undefined) return [];
      const raw = Object.fromEntries(frame.properties.filter((p) => p.edt.length > 0).map((p) => [byteHex(p.epc), toHex(p.edt)]));
      return [{ at, kind, raw }];
    });
  }
  update(changes: Partial<AirconState>): Promise<void> {
    return this.endpoint.multicast(this.node.update(changes));
  }
  setSilent(silent: boolean): void {
    this.endpoint.silent = silent;
  }
  moveTo(address: string): Promise<void> {
    return this.endpoint.moveTo(address);
  }
}

export async function startSimulator(options: SimulatorOptions): Promise<SimulatorHandle> {
  if (!options.interfaceAddress) throw new Error('interfaceAddress is required: multicast must never use the default route');
  const count = options.nodes ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`nodes must be a positive integer, got ${count}`);
  const makerCode = (options.makerCode ?? DEFAULT_MAKER_CODE).toLowerCase();
  if (!/^[0-9a-f]{6}$/.test(makerCode)) throw new RangeError(`makerCode must be 6 hex digits, got ${makerCode}`);
  const random = seededRandom(options.seed ?? 1);
  const addresses = consecutiveAddresses(options.baseAddress ?? '127.0.0.2', count);
  const log = options.logger;

  const handles: NodeHandle[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.allSettled(handles.map((h) => h.endpoint.close()));
  };
  try {
    for (const [index, address] of addresses.entries()) {
      const quirks = { ...options.quirks, ...options.nodeQuirks?.[index] };
      const nodeId = quirks.noIdentificationNumber ? null : identificationNumber(makerCode, random, index);
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
        },
        quirks,
      );
      handles.push(new NodeHandle(index, node, endpoint));
      await endpoint.open();
      log.info({ node: index, address, nodeId, deviceId: handles[index]?.deviceId }, 'simulated air conditioner up');
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

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
    async stop() {
      clearInterval(ticker);
      await stopAll();
      log.info('simulator stopped');
    },
  };
}
