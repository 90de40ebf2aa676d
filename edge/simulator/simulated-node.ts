/**
 * How one simulated node answers ECHONET Lite requests, without sockets: frames in, frames out. The
 * answer rules are the shared ones of `LocalNode`; on top, the node announces every change of its
 * INF-map properties and can misbehave on big Gets as some devices do.
 */
import { type Eoj, eojToHex } from '../echonet/eoj.js';
import type { Frame } from '../echonet/frame.js';
import { type GetReader, type LocalObject, type NodeReplies, LocalNode, nodeProfileObject, readAll, refuseAll } from '../echonet/local-node.js';
import { NodeProfileEpc } from '../echonet/properties-node-profile.js';
import { type AirconState, stepAircon } from './aircon-model.js';
import { type AirconStateBox, airconObject, temperatureSensorObject } from './device-objects.js';
import type { NodeQuirks } from './quirks.js';

export type { NodeReplies } from '../echonet/local-node.js';

type AnnouncedBytes = Map<string, Uint8Array | undefined>;

export class SimulatedNode {
  readonly nodeProfile: LocalObject;
  readonly aircon: LocalObject;
  /** The device objects (not the node profile): the air conditioner first. */
  readonly devices: readonly LocalObject[];
  private readonly box: AirconStateBox;
  private readonly local: LocalNode;

  constructor(
    readonly nodeId: string | null,
    makerCode: string,
    initialState: AirconState,
    private readonly quirks: NodeQuirks = {},
  ) {
    this.box = { state: initialState };
    const identity = { nodeId, makerCode };
    this.aircon = airconObject(identity, this.box, { vendorEpcs: quirks.vendorEpcs ?? false, extendedPropertyMaps: quirks.extendedPropertyMaps ?? false });
    this.devices = quirks.temperatureSensor ? [this.aircon, temperatureSensorObject(identity, this.box)] : [this.aircon];
    this.nodeProfile = nodeProfileObject(identity, this.devices.map((d) => d.eoj));
    this.local = new LocalNode([this.nodeProfile, ...this.devices]);
  }

  get state(): AirconState {
    return this.box.state;
  }

  /** The node's start-up announcement: INF of 0xD5 (instance list) from the node profile. */
  bootAnnouncement(): Frame | undefined {
    return this.local.inf(this.nodeProfile, [NodeProfileEpc.instanceListNotification]);
  }

  /** Time passes; announces what changed of the INF-map properties (e.g. nothing, usually). */
  advance(elapsedMs: number): Frame[] {
    const before = this.announcedBytes();
    this.box.state = stepAircon(this.box.state, elapsedMs);
    return this.announcementsSince(before);
  }

  /** A change made at the unit itself (remote control, fault); announced like any other. */
  update(changes: Partial<AirconState>): Frame[] {
    const before = this.announcedBytes();
    this.box.state = { ...this.box.state, ...changes };
    return this.announcementsSince(before);
  }

  handle(request: Frame): NodeReplies {
    const before = this.announcedBytes();
    const replies = this.local.handle(request, this.readGet);
    return { unicast: replies.unicast, multicast: [...replies.multicast, ...this.announcementsSince(before)] };
  }

  private readonly readGet: GetReader = (target, epcs) => {
    const limit = this.quirks.maxGetBatch;
    if (limit === undefined || epcs.length <= limit.size) return readAll(target, epcs);
    return limit.behaviour === 'truncate' ? readAll(target, epcs.slice(0, limit.size)) : refuseAll(epcs);
  };

  private announcedBytes(): AnnouncedBytes {
    const bytes: AnnouncedBytes = new Map();
    for (const object of this.local.objects) {
      for (const epc of object.announceMap) bytes.set(announcedKey(object.eoj, epc), object.read(epc));
    }
    return bytes;
  }

  /** INF frames, one per object, of every announced property whose bytes changed. */
  private announcementsSince(before: AnnouncedBytes): Frame[] {
    const frames: Frame[] = [];
    for (const object of this.local.objects) {
      const changed = [...object.announceMap].filter((epc) => !sameBytes(before.get(announcedKey(object.eoj, epc)), object.read(epc)));
      const frame = changed.length > 0 ? this.local.inf(object, changed) : undefined;
      if (frame) frames.push(frame);
    }
    return frames;
  }
}

function announcedKey(eoj: Eoj, epc: number): string {
  return `${eojToHex(eoj)}/${epc}`;
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
