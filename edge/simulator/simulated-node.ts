/**
 * How one simulated node answers ECHONET Lite requests, without sockets: frames in, frames out.
 * Follows the specification's answer rules — Get_SNA lists refused EPCs with PDC 0, SetC_SNA echoes
 * the refused EDTs and gives accepted ones PDC 0, SetI answers only on failure, INF_REQ is answered
 * by a multicast INF — and announces changes of its INF-map properties.
 */
import { type Eoj, NODE_PROFILE_EOJ, eojAddresses } from '../echonet/eoj.js';
import { ESV, type Esv } from '../echonet/esv.js';
import { type Frame, type Property, isSetGetFrame } from '../echonet/frame.js';
import { type AirconState, stepAircon } from './aircon-model.js';
import { type AirconStateBox, type SimObject, AIRCON_EOJ, airconObject, nodeProfileObject } from './device-objects.js';
import type { NodeQuirks } from './quirks.js';

export interface NodeReplies {
  /** Unicast answers to the requester. */
  readonly unicast: Frame[];
  /** Multicast frames: INF answers to INF_REQ and status-change announcements. */
  readonly multicast: Frame[];
}

const EMPTY = new Uint8Array(0);
const NO_REPLIES: NodeReplies = { unicast: [], multicast: [] };

interface ListOutcome {
  readonly properties: Property[];
  readonly allAccepted: boolean;
}

export class SimulatedNode {
  readonly nodeProfile: SimObject;
  readonly aircon: SimObject;
  private readonly box: AirconStateBox;
  private readonly objects: readonly SimObject[];
  private nextTid = 1;

  constructor(
    readonly nodeId: string | null,
    makerCode: string,
    initialState: AirconState,
    private readonly quirks: NodeQuirks = {},
  ) {
    this.box = { state: initialState };
    const identity = { nodeId, makerCode };
    this.aircon = airconObject(identity, this.box, { vendorEpcs: quirks.vendorEpcs ?? false });
    this.nodeProfile = nodeProfileObject(identity, [AIRCON_EOJ]);
    this.objects = [this.nodeProfile, this.aircon];
  }

  get state(): AirconState {
    return this.box.state;
  }

  /** The node's start-up announcement: INF of 0xD5 (instance list) from the node profile. */
  bootAnnouncement(): Frame | undefined {
    return this.inf(this.nodeProfile, [0xd5]);
  }

  /** Time passes; announces what changed of the INF-map properties (e.g. nothing, usually). */
  advance(elapsedMs: number): Frame[] {
    return this.changing(() => (this.box.state = stepAircon(this.box.state, elapsedMs)));
  }

  /** A change made at the unit itself (remote control, fault); announced like any other. */
  update(changes: Partial<AirconState>): Frame[] {
    return this.changing(() => (this.box.state = { ...this.box.state, ...changes }));
  }

  handle(request: Frame): NodeReplies {
    const targets = this.objects.filter((o) => eojAddresses(request.deoj, o.eoj));
    if (targets.length === 0) return NO_REPLIES;
    const replies: NodeReplies = { unicast: [], multicast: [] };
    for (const target of targets) {
      const announcements = this.changing(() => this.answer(request, target, replies));
      replies.multicast.push(...announcements);
    }
    return replies;
  }

  private answer(request: Frame, target: SimObject, replies: NodeReplies): void {
    const reply = (esv: Esv, properties: Property[]): Frame => ({ tid: request.tid, seoj: target.eoj, deoj: request.seoj, esv, properties }) as Frame;
    if (isSetGetFrame(request)) {
      if (request.esv !== ESV.SetGet) return;
      const set = this.writeAll(target, request.setProperties);
      const get = this.readAll(target, request.getProperties.map((p) => p.epc));
      const ok = set.allAccepted && get.allAccepted;
      replies.unicast.push({ tid: request.tid, seoj: target.eoj, deoj: request.seoj, esv: ok ? ESV.SetGetRes : ESV.SetGetSna, setProperties: set.properties, getProperties: get.properties });
      return;
    }
    const epcs = request.properties.map((p) => p.epc);
    switch (request.esv) {
      case ESV.Get: {
        const get = this.readWithBatchQuirk(target, epcs);
        replies.unicast.push(reply(get.allAccepted ? ESV.GetRes : ESV.GetSna, get.properties));
        return;
      }
      case ESV.SetC: {
        const set = this.writeAll(target, request.properties);
        replies.unicast.push(reply(set.allAccepted ? ESV.SetRes : ESV.SetCSna, set.properties));
        return;
      }
      case ESV.SetI: {
        const set = this.writeAll(target, request.properties);
        if (!set.allAccepted) replies.unicast.push(reply(ESV.SetISna, set.properties));
        return;
      }
      case ESV.InfReq: {
        const get = this.readAll(target, epcs);
        if (get.allAccepted) replies.multicast.push({ ...reply(ESV.Inf, get.properties), deoj: NODE_PROFILE_EOJ });
        else replies.unicast.push(reply(ESV.InfSna, get.properties));
        return;
      }
      default:
        return; // responses and notifications need no answer from a device
    }
  }

  private readWithBatchQuirk(target: SimObject, epcs: readonly number[]): ListOutcome {
    const limit = this.quirks.maxGetBatch;
    if (limit === undefined || epcs.length <= limit.size) return this.readAll(target, epcs);
    if (limit.behaviour === 'truncate') return this.readAll(target, epcs.slice(0, limit.size));
    return { properties: epcs.map((epc) => ({ epc, edt: EMPTY })), allAccepted: false };
  }

  private readAll(target: SimObject, epcs: readonly number[]): ListOutcome {
    let allAccepted = true;
    const properties = epcs.map((epc) => {
      const edt = target.read(epc);
      if (edt === undefined) allAccepted = false;
      return { epc, edt: edt ?? EMPTY };
    });
    return { properties, allAccepted };
  }

  private writeAll(target: SimObject, requested: readonly Property[]): ListOutcome {
    let allAccepted = true;
    const properties = requested.map(({ epc, edt }) => {
      const accepted = target.write(epc, edt);
      if (!accepted) allAccepted = false;
      return { epc, edt: accepted ? EMPTY : edt };
    });
    return { properties, allAccepted };
  }

  /** Runs a change and returns INF frames for every announced property whose bytes changed. */
  private changing(change: () => void): Frame[] {
    const before = this.announcedBytes();
    change();
    const after = this.announcedBytes();
    const changed = [...after.keys()].filter((key) => !sameBytes(before.get(key), after.get(key)));
    const frames: Frame[] = [];
    for (const object of this.objects) {
      const epcs = changed.filter((key) => key.startsWith(`${objectKey(object.eoj)}/`)).map((key) => Number(key.split('/')[1]));
      const frame = this.inf(object, epcs);
      if (frame) frames.push(frame);
    }
    return frames;
  }

  private announcedBytes(): Map<string, Uint8Array | undefined> {
    const bytes = new Map<string, Uint8Array | undefined>();
    for (const object of this.objects) {
      for (const epc of object.announceMap) bytes.set(`${objectKey(object.eoj)}/${epc}`, object.read(epc));
    }
    return bytes;
  }

  /** An INF of the EPCs that have a value now; undefined when none has. */
  private inf(object: SimObject, epcs: readonly number[]): Frame | undefined {
    const properties = epcs.map((epc) => ({ epc, edt: object.read(epc) ?? EMPTY })).filter((p) => p.edt.length > 0);
    if (properties.length === 0) return undefined;
    const tid = this.nextTid;
    this.nextTid = (this.nextTid + 1) & 0xffff;
    return { tid, seoj: object.eoj, deoj: NODE_PROFILE_EOJ, esv: ESV.Inf, properties };
  }
}

function objectKey(eoj: Eoj): string {
  return `${eoj.classGroup}.${eoj.classCode}.${eoj.instance}`;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
