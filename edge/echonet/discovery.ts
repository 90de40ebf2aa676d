/**
 * Finding nodes and learning what they are: a multicast search (Get of node profile 0xD6 and 0x83),
 * then per node a unicast Get of its identification number, maker and instance list, then per
 * object its property maps. Every unicast step goes through the node's channel, so it is paced and
 * retried.
 */
import type { Logger } from '../../shared/log.js';
import { isPlaceholderIdentificationNumber } from './device-id.js';
import { type Eoj, CONTROLLER_EOJ, NODE_PROFILE_EOJ, eojToHex, isNodeProfile } from './eoj.js';
import { ESV } from './esv.js';
import { type Property, allProperties, requestedEpcs } from './frame.js';
import { toHex } from './hex.js';
import type { NodeChannel } from './node-channel.js';
import { decodeInstanceList } from './properties-common.js';
import { NodeProfileEpc } from './properties-node-profile.js';
import { SuperClassEpc } from './properties-super-class.js';
import { decodePropertyMap } from './property-map.js';
import type { PropertyMaps } from './registry.js';
import { type CollectWindow, type EchonetTransport, type ReceivedFrame, EchonetRequestError } from './transport.js';

export interface NodeDescription {
  readonly address: string;
  /** Node profile 0x83 as hex, or null where the node has none. */
  readonly nodeId: string | null;
  readonly manufacturer: string | null;
  readonly instances: readonly Eoj[];
}

/** What a node said in answer to a search: enough to tell whether it is the node we know at its address. */
export interface SearchAnswer {
  readonly address: string;
  /** Node profile 0x83 as hex, or null where the node has none or left it out. */
  readonly nodeId: string | null;
  /** Undefined where the node left its instance list out. */
  readonly instances: readonly Eoj[] | undefined;
}

export interface ObjectDescription {
  readonly manufacturer: string | null;
  readonly maps: PropertyMaps;
}

const IDENTIFICATION_NUMBER_LENGTH = 17;
const MANUFACTURER_CODE_LENGTH = 3;

function findEdt(properties: readonly Property[], epc: number): Uint8Array | undefined {
  const edt = properties.find((p) => p.epc === epc)?.edt;
  return edt !== undefined && edt.length > 0 ? edt : undefined;
}

/** The node's 0x83, or null where it has none or only a placeholder (see device-id.ts). */
function nodeIdIn(properties: readonly Property[]): string | null {
  const nodeId = hexOfLength(findEdt(properties, NodeProfileEpc.id), IDENTIFICATION_NUMBER_LENGTH);
  return nodeId === null || isPlaceholderIdentificationNumber(nodeId) ? null : nodeId;
}

function hexOfLength(edt: Uint8Array | undefined, length: number): string | null {
  return edt?.length === length ? toHex(edt) : null;
}

function mapOf(properties: readonly Property[], epc: number): readonly number[] | null {
  const edt = findEdt(properties, epc);
  if (edt === undefined) return null;
  const map = decodePropertyMap(edt);
  return map.ok ? map.value : null;
}

/** The instances a node listed in 0xD6 or 0xD5, or undefined if it listed none we can read. */
export function instancesIn(properties: readonly Property[]): Eoj[] | undefined {
  const edt = findEdt(properties, NodeProfileEpc.selfNodeInstanceListS) ?? findEdt(properties, NodeProfileEpc.instanceListNotification);
  if (edt === undefined) return undefined;
  const list = decodeInstanceList(edt);
  return list.ok ? list.value : undefined;
}

/**
 * A Get of a few EPCs that also works on nodes taking fewer per Get, down to one: a truncated answer
 * is completed by asking for the rest, a batch refused as a whole is asked again EPC by EPC, and a
 * batch met with silence (units that drop big Gets without a word) is asked again in halves; only a
 * single EPC's silence means the node does not answer. Returns the properties that came with data.
 * Values alongside single refusals (PDC 0) mean the node took the batch and lacks what it refused,
 * so those are not asked again. Discovery asks a node rarely, so it does not learn a batch size as
 * the poller does: such a node costs a few more frames.
 */
async function getAllOf(channel: NodeChannel, eoj: Eoj, epcs: readonly number[]): Promise<Property[]> {
  let received: ReceivedFrame;
  try {
    received = await channel.get(eoj, epcs);
  } catch (error) {
    if (epcs.length === 1 || !(error instanceof EchonetRequestError) || error.code !== 'TIMEOUT') throw error;
    const half = Math.ceil(epcs.length / 2);
    return [...(await getAllOf(channel, eoj, epcs.slice(0, half))), ...(await getAllOf(channel, eoj, epcs.slice(half)))];
  }
  const answered = allProperties(received.frame).filter((p) => epcs.includes(p.epc));
  const withData = answered.filter((p) => p.edt.length > 0);
  if (epcs.length === 1) return withData;
  if (withData.length === 0) {
    const singles: Property[] = [];
    for (const epc of epcs) singles.push(...(await getAllOf(channel, eoj, [epc])));
    return singles;
  }
  const cutOff = epcs.filter((epc) => !answered.some((p) => p.epc === epc));
  return cutOff.length === 0 ? withData : [...withData, ...(await getAllOf(channel, eoj, cutOff))];
}

export class Discovery {
  constructor(
    private readonly transport: EchonetTransport,
    private readonly channelFor: (address: string) => NodeChannel,
    private readonly log: Logger,
  ) {}

  /**
   * Multicast search. `onResponder` is called as each node answers (not after the window), with the
   * id and instance list it sent along. Resolves with the number of nodes that answered.
   */
  async search(window: CollectWindow, onResponder: (answer: SearchAnswer) => void): Promise<number> {
    const wanted = [NodeProfileEpc.selfNodeInstanceListS, NodeProfileEpc.id];
    const request = { seoj: CONTROLLER_EOJ, deoj: NODE_PROFILE_EOJ, esv: ESV.Get, properties: requestedEpcs(wanted) };
    const responders = new Set<string>();
    await this.transport.multicastRequest(request, window, (received: ReceivedFrame) => {
      if (!isNodeProfile(received.frame.seoj) || responders.has(received.address)) return;
      responders.add(received.address);
      const properties = allProperties(received.frame);
      onResponder({ address: received.address, nodeId: nodeIdIn(properties), instances: instancesIn(properties) });
    });
    this.log.debug({ nodes: responders.size, ...window }, 'echonet search finished');
    return responders.size;
  }

  /** Who is the node at `address`: its 0x83, maker and instance list. Throws if it does not answer. */
  async describeNode(address: string): Promise<NodeDescription> {
    const wanted = [NodeProfileEpc.id, NodeProfileEpc.manufacturer, NodeProfileEpc.selfNodeInstanceListS];
    const properties = await getAllOf(this.channelFor(address), NODE_PROFILE_EOJ, wanted);
    const description: NodeDescription = {
      address,
      nodeId: nodeIdIn(properties),
      manufacturer: hexOfLength(findEdt(properties, NodeProfileEpc.manufacturer), MANUFACTURER_CODE_LENGTH),
      instances: instancesIn(properties) ?? [],
    };
    this.log.debug({ address, nodeId: description.nodeId, instances: description.instances.map(eojToHex) }, 'echonet node described');
    return description;
  }

  /** Only the node's 0x83, for checking whether a node is still at an address. `onRetry` hears of each retry. */
  async nodeIdAt(address: string, onRetry?: () => void): Promise<string | null> {
    const received = await this.channelFor(address).get(NODE_PROFILE_EOJ, [NodeProfileEpc.id], undefined, onRetry);
    return nodeIdIn(allProperties(received.frame));
  }

  /** Maker and property maps of one object; maps the device refused stay null. */
  async describeObject(address: string, eoj: Eoj): Promise<ObjectDescription> {
    const wanted = [SuperClassEpc.manufacturer, SuperClassEpc.statusChangeAnnouncementPropertyMap, SuperClassEpc.setPropertyMap, SuperClassEpc.getPropertyMap];
    const properties = await getAllOf(this.channelFor(address), eoj, wanted);
    return {
      manufacturer: hexOfLength(findEdt(properties, SuperClassEpc.manufacturer), MANUFACTURER_CODE_LENGTH),
      maps: {
        announce: mapOf(properties, SuperClassEpc.statusChangeAnnouncementPropertyMap),
        set: mapOf(properties, SuperClassEpc.setPropertyMap),
        get: mapOf(properties, SuperClassEpc.getPropertyMap),
      },
    };
  }
}
