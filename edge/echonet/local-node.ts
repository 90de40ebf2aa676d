/**
 * ECHONET objects this process hosts and answers for: the controller's own node (node profile and
 * controller object) and each simulated device. One set of answer rules for both, following the
 * specification: Get_SNA lists refused EPCs with PDC 0, SetC_SNA echoes the refused EDTs and gives
 * accepted ones PDC 0, SetI answers only on failure, INF_REQ is answered by a multicast INF.
 */
import { type Eoj, NODE_PROFILE_EOJ, eojAddresses } from './eoj.js';
import { ESV, type Esv } from './esv.js';
import { type Frame, type Property, isSetGetFrame } from './frame.js';
import { fromHex } from './hex.js';
import { encodeInstanceList } from './properties-common.js';
import { NodeProfileEpc } from './properties-node-profile.js';
import { OPERATION_STATUS_ON } from './properties-super-class.js';
import { encodePropertyMap } from './property-map.js';

export interface LocalObject {
  readonly eoj: Eoj;
  readonly getMap: ReadonlySet<number>;
  readonly setMap: ReadonlySet<number>;
  readonly announceMap: ReadonlySet<number>;
  /** The EDT a Get would return, or undefined if the object does not have it. */
  read(epc: number): Uint8Array | undefined;
  /** Applies a Set; false if the EPC is not settable or the bytes are not a valid value. */
  write(epc: number, edt: Uint8Array): boolean;
}

export interface NodeReplies {
  /** Unicast answers to the requester. */
  readonly unicast: Frame[];
  /** Multicast frames: INF answers to INF_REQ (and, in the simulator, status-change announcements). */
  readonly multicast: Frame[];
}

export interface ListOutcome {
  readonly properties: Property[];
  readonly allAccepted: boolean;
}

/** How a Get is read; the simulator swaps in readers that misbehave like some devices do. */
export type GetReader = (target: LocalObject, epcs: readonly number[]) => ListOutcome;

const EMPTY = new Uint8Array(0);

export function readAll(target: LocalObject, epcs: readonly number[]): ListOutcome {
  let allAccepted = true;
  const properties = epcs.map((epc) => {
    const edt = target.read(epc);
    if (edt === undefined) allAccepted = false;
    return { epc, edt: edt ?? EMPTY };
  });
  return { properties, allAccepted };
}

/** Every EPC refused (PDC 0), as a device that will not take a request of this size answers. */
export function refuseAll(epcs: readonly number[]): ListOutcome {
  return { properties: epcs.map((epc) => ({ epc, edt: EMPTY })), allAccepted: false };
}

function writeAll(target: LocalObject, requested: readonly Property[]): ListOutcome {
  let allAccepted = true;
  const properties = requested.map(({ epc, edt }) => {
    const accepted = target.write(epc, edt);
    if (!accepted) allAccepted = false;
    return { epc, edt: accepted ? EMPTY : edt };
  });
  return { properties, allAccepted };
}

/** A node's objects and its answers to requests; TIDs of its own announcements count up from 1. */
export class LocalNode {
  private nextTid = 1;

  constructor(readonly objects: readonly LocalObject[]) {}

  /** Answers of every addressed object (instance 0 addresses all instances of a class). */
  handle(request: Frame, readGet: GetReader = readAll): NodeReplies {
    const replies: NodeReplies = { unicast: [], multicast: [] };
    for (const target of this.objects) {
      if (eojAddresses(request.deoj, target.eoj)) this.answer(request, target, replies, readGet);
    }
    return replies;
  }

  /** An INF of the EPCs that have a value now, from the node profile to the group; undefined when none has. */
  inf(object: LocalObject, epcs: readonly number[]): Frame | undefined {
    const properties = epcs.map((epc) => ({ epc, edt: object.read(epc) ?? EMPTY })).filter((p) => p.edt.length > 0);
    if (properties.length === 0) return undefined;
    const tid = this.nextTid;
    this.nextTid = (this.nextTid + 1) & 0xffff;
    return { tid, seoj: object.eoj, deoj: NODE_PROFILE_EOJ, esv: ESV.Inf, properties };
  }

  private answer(request: Frame, target: LocalObject, replies: NodeReplies, readGet: GetReader): void {
    const reply = (esv: Esv, properties: Property[]): Frame => ({ tid: request.tid, seoj: target.eoj, deoj: request.seoj, esv, properties }) as Frame;
    if (isSetGetFrame(request)) {
      if (request.esv !== ESV.SetGet) return;
      const set = writeAll(target, request.setProperties);
      const get = readAll(target, request.getProperties.map((p) => p.epc));
      const ok = set.allAccepted && get.allAccepted;
      replies.unicast.push({ tid: request.tid, seoj: target.eoj, deoj: request.seoj, esv: ok ? ESV.SetGetRes : ESV.SetGetSna, setProperties: set.properties, getProperties: get.properties });
      return;
    }
    const epcs = request.properties.map((p) => p.epc);
    switch (request.esv) {
      case ESV.Get: {
        const get = readGet(target, epcs);
        replies.unicast.push(reply(get.allAccepted ? ESV.GetRes : ESV.GetSna, get.properties));
        return;
      }
      case ESV.SetC: {
        const set = writeAll(target, request.properties);
        replies.unicast.push(reply(set.allAccepted ? ESV.SetRes : ESV.SetCSna, set.properties));
        return;
      }
      case ESV.SetI: {
        const set = writeAll(target, request.properties);
        if (!set.allAccepted) replies.unicast.push(reply(ESV.SetISna, set.properties));
        return;
      }
      case ESV.InfReq: {
        const get = readAll(target, epcs);
        if (get.allAccepted) replies.multicast.push({ ...reply(ESV.Inf, get.properties), deoj: NODE_PROFILE_EOJ });
        else replies.unicast.push(reply(ESV.InfSna, get.properties));
        return;
      }
      default:
        return; // responses and notifications need no answer
    }
  }
}

export interface NodeIdentity {
  /** 17 bytes hex (0xFE + maker code + 13 unique bytes), or null for nodes without 0x83. */
  readonly nodeId: string | null;
  /** Three bytes hex. */
  readonly makerCode: string;
}

export function requireHex(hex: string, bytes: number, what: string): Uint8Array {
  const decoded = fromHex(hex);
  if (decoded?.length !== bytes) throw new RangeError(`${what} must be ${bytes} bytes of hex, got ${hex}`);
  return decoded;
}

/** ECHONET Lite 1.13, specified message format supported. */
const NODE_VERSION = Uint8Array.of(0x01, 0x0d, 0x01, 0x00);

/** A read-only object whose values never change (node profiles, the controller object). */
export function fixedObject(eoj: Eoj, values: ReadonlyMap<number, Uint8Array>, announceMap: ReadonlySet<number>): LocalObject {
  const getMap = new Set(values.keys());
  return { eoj, getMap, setMap: new Set(), announceMap, read: (epc) => values.get(epc), write: () => false };
}

/** A general node profile (0x0EF001) listing `instances`: what every ECHONET Lite node answers searches with. */
export function nodeProfileObject(identity: NodeIdentity, instances: readonly Eoj[]): LocalObject {
  const id = identity.nodeId === null ? undefined : requireHex(identity.nodeId, 17, 'nodeId');
  const classes = [...new Set(instances.map((e) => (e.classGroup << 8) | e.classCode))];
  const announceMap = new Set<number>([NodeProfileEpc.operatingStatus, NodeProfileEpc.instanceListNotification]);
  const values = new Map<number, Uint8Array>([
    [NodeProfileEpc.operatingStatus, OPERATION_STATUS_ON],
    [NodeProfileEpc.version, NODE_VERSION],
    [NodeProfileEpc.manufacturer, requireHex(identity.makerCode, 3, 'makerCode')],
    [NodeProfileEpc.selfNodeInstances, Uint8Array.of(0, 0, instances.length)],
    // Classes including the node profile's own.
    [NodeProfileEpc.selfNodeClasses, Uint8Array.of(0, classes.length + 1)],
    [NodeProfileEpc.instanceListNotification, encodeInstanceList(instances)],
    [NodeProfileEpc.selfNodeInstanceListS, encodeInstanceList(instances)],
    [NodeProfileEpc.selfNodeClassListS, Uint8Array.of(classes.length, ...classes.flatMap((c) => [c >> 8, c & 0xff]))],
  ]);
  if (id) values.set(NodeProfileEpc.id, id);
  const getMap = [...values.keys(), NodeProfileEpc.statusChangeAnnouncementPropertyMap, NodeProfileEpc.setPropertyMap, NodeProfileEpc.getPropertyMap];
  values.set(NodeProfileEpc.statusChangeAnnouncementPropertyMap, encodePropertyMap(announceMap));
  values.set(NodeProfileEpc.setPropertyMap, encodePropertyMap([]));
  values.set(NodeProfileEpc.getPropertyMap, encodePropertyMap(getMap));
  return fixedObject(NODE_PROFILE_EOJ, values, announceMap);
}
