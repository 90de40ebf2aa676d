/**
 * The ECHONET objects a simulated node hosts: its node profile and one home air conditioner.
 * Values are encoded with the same codecs the controller decodes with, so both sides share one
 * reading of the APPENDIX.
 */
import type { PropertyValue } from '../../shared/reading.js';
import { type Eoj, NODE_PROFILE_EOJ, makeEoj } from '../echonet/eoj.js';
import { fromHex } from '../echonet/hex.js';
import { encodeInstanceList } from '../echonet/properties-common.js';
import { AirconEpc } from '../echonet/properties-home-air-conditioner.js';
import { NodeProfileEpc } from '../echonet/properties-node-profile.js';
import { SuperClassEpc } from '../echonet/properties-super-class.js';
import { codecFor } from '../echonet/properties.js';
import { encodePropertyMap } from '../echonet/property-map.js';
import { type AirconState, reportedAircon } from './aircon-model.js';

export interface SimObject {
  readonly eoj: Eoj;
  readonly getMap: ReadonlySet<number>;
  readonly setMap: ReadonlySet<number>;
  readonly announceMap: ReadonlySet<number>;
  /** The EDT a Get would return, or undefined if the object does not have it. */
  read(epc: number): Uint8Array | undefined;
  /** Applies a Set; false if the EPC is not settable or the bytes are not a valid value. */
  write(epc: number, edt: Uint8Array): boolean;
}

export const AIRCON_EOJ = makeEoj(0x01, 0x30, 0x01);

/** Release R of the APPENDIX, which the notes' MRA tables follow. */
const PROTOCOL_RELEASE_R = Uint8Array.of(0x00, 0x00, 0x52, 0x01);
/** ECHONET Lite 1.13, specified message format supported. */
const NODE_VERSION = Uint8Array.of(0x01, 0x0d, 0x01, 0x00);
const ON = Uint8Array.of(0x30);

function mapBytes(map: ReadonlySet<number>): Uint8Array {
  return encodePropertyMap(map);
}

export interface NodeIdentity {
  /** 17 bytes hex (0xFE + maker code + 13 unique bytes), or null for nodes without 0x83. */
  readonly nodeId: string | null;
  /** Three bytes hex. */
  readonly makerCode: string;
}

function requireHex(hex: string, bytes: number, what: string): Uint8Array {
  const decoded = fromHex(hex);
  if (decoded?.length !== bytes) throw new RangeError(`${what} must be ${bytes} bytes of hex, got ${hex}`);
  return decoded;
}

export function nodeProfileObject(identity: NodeIdentity, instances: readonly Eoj[]): SimObject {
  const id = identity.nodeId === null ? undefined : requireHex(identity.nodeId, 17, 'nodeId');
  const maker = requireHex(identity.makerCode, 3, 'makerCode');
  const getMap = new Set<number>([
    NodeProfileEpc.operatingStatus,
    NodeProfileEpc.version,
    ...(id ? [NodeProfileEpc.id] : []),
    NodeProfileEpc.manufacturer,
    NodeProfileEpc.statusChangeAnnouncementPropertyMap,
    NodeProfileEpc.setPropertyMap,
    NodeProfileEpc.getPropertyMap,
    NodeProfileEpc.selfNodeInstances,
    NodeProfileEpc.selfNodeClasses,
    NodeProfileEpc.instanceListNotification,
    NodeProfileEpc.selfNodeInstanceListS,
    NodeProfileEpc.selfNodeClassListS,
  ]);
  const setMap = new Set<number>();
  const announceMap = new Set<number>([NodeProfileEpc.operatingStatus, NodeProfileEpc.instanceListNotification]);
  const classes = [...new Set(instances.map((e) => (e.classGroup << 8) | e.classCode))];
  const values = new Map<number, Uint8Array>([
    [NodeProfileEpc.operatingStatus, ON],
    [NodeProfileEpc.version, NODE_VERSION],
    [NodeProfileEpc.manufacturer, maker],
    [NodeProfileEpc.statusChangeAnnouncementPropertyMap, mapBytes(announceMap)],
    [NodeProfileEpc.setPropertyMap, mapBytes(setMap)],
    [NodeProfileEpc.getPropertyMap, mapBytes(getMap)],
    [NodeProfileEpc.selfNodeInstances, Uint8Array.of(0, 0, instances.length)],
    [NodeProfileEpc.selfNodeClasses, Uint8Array.of(0, classes.length + 1)],
    [NodeProfileEpc.instanceListNotification, encodeInstanceList(instances)],
    [NodeProfileEpc.selfNodeInstanceListS, encodeInstanceList(instances)],
    [NodeProfileEpc.selfNodeClassListS, Uint8Array.of(classes.length, ...classes.flatMap((c) => [c >> 8, c & 0xff]))],
  ]);
  if (id) values.set(NodeProfileEpc.id, id);
  return {
    eoj: NODE_PROFILE_EOJ,
    getMap,
    setMap,
    announceMap,
    read: (epc) => (getMap.has(epc) ? values.get(epc) : undefined),
    write: () => false,
  };
}

/** Maker-specific EPCs with fixed contents, like the 0xF0–0xFD block real units expose. */
const VENDOR_VALUES = new Map<number, Uint8Array>([
  [0xf0, Uint8Array.of(0x01)],
  [0xf1, Uint8Array.of(0x00, 0x10)],
  [0xf2, Uint8Array.of(0x42)],
  [0xf3, Uint8Array.of(0xde, 0xad, 0xbe, 0xef)],
]);

const AIRCON_STATE_EPCS = [
  SuperClassEpc.operationStatus,
  SuperClassEpc.installationLocation,
  SuperClassEpc.instantaneousElectricPowerConsumption,
  SuperClassEpc.consumedCumulativeElectricEnergy,
  SuperClassEpc.faultStatus,
  AirconEpc.airFlowLevel,
  AirconEpc.operationMode,
  AirconEpc.targetTemperature,
  AirconEpc.humidity,
  AirconEpc.roomTemperature,
  AirconEpc.outdoorTemperature,
];

const SETTABLE: ReadonlySet<number> = new Set([
  SuperClassEpc.operationStatus,
  SuperClassEpc.installationLocation,
  AirconEpc.airFlowLevel,
  AirconEpc.operationMode,
  AirconEpc.targetTemperature,
]);

/** The INF map: everything required to announce, plus the target temperature. */
const ANNOUNCED: ReadonlySet<number> = new Set([
  SuperClassEpc.operationStatus,
  SuperClassEpc.installationLocation,
  SuperClassEpc.faultStatus,
  AirconEpc.operationMode,
  AirconEpc.targetTemperature,
]);

/** Holds the air conditioner's state; the node swaps it as time passes and Sets arrive. */
export interface AirconStateBox {
  state: AirconState;
}

function isSettableValue(name: string, value: PropertyValue): boolean {
  // "No valid value" codes are for devices to report, never for controllers to set.
  return value !== null && !(name === 'installationLocation' && value === 'unspecified');
}

export function airconObject(identity: NodeIdentity, box: AirconStateBox, options: { vendorEpcs: boolean }): SimObject {
  const id = identity.nodeId === null ? undefined : requireHex(identity.nodeId, 17, 'nodeId');
  const maker = requireHex(identity.makerCode, 3, 'makerCode');
  const getMap = new Set<number>([
    ...AIRCON_STATE_EPCS,
    SuperClassEpc.protocol,
    ...(id ? [SuperClassEpc.id] : []),
    SuperClassEpc.manufacturer,
    SuperClassEpc.statusChangeAnnouncementPropertyMap,
    SuperClassEpc.setPropertyMap,
    SuperClassEpc.getPropertyMap,
    ...(options.vendorEpcs ? VENDOR_VALUES.keys() : []),
  ]);
  const fixed = new Map<number, Uint8Array>([
    [SuperClassEpc.protocol, PROTOCOL_RELEASE_R],
    [SuperClassEpc.manufacturer, maker],
    [SuperClassEpc.statusChangeAnnouncementPropertyMap, mapBytes(ANNOUNCED)],
    [SuperClassEpc.setPropertyMap, mapBytes(SETTABLE)],
    [SuperClassEpc.getPropertyMap, mapBytes(getMap)],
    ...(options.vendorEpcs ? VENDOR_VALUES : []),
  ]);
  if (id) fixed.set(SuperClassEpc.id, id);

  const read = (epc: number): Uint8Array | undefined => {
    if (!getMap.has(epc)) return undefined;
    const constant = fixed.get(epc);
    if (constant) return constant;
    const codec = codecFor(AIRCON_EOJ, epc);
    const reported = reportedAircon(box.state)[codec?.name ?? ''];
    if (codec === undefined || reported === undefined) return undefined;
    const encoded = codec.encode(reported);
    return encoded.ok ? encoded.value : undefined;
  };

  const write = (epc: number, edt: Uint8Array): boolean => {
    const codec = codecFor(AIRCON_EOJ, epc);
    if (!SETTABLE.has(epc) || codec === undefined) return false;
    const decoded = codec.decode(edt);
    if (decoded.kind !== 'value' || !isSettableValue(codec.name, decoded.value)) return false;
    box.state = { ...box.state, [codec.name]: decoded.value };
    return true;
  };

  return { eoj: AIRCON_EOJ, getMap, setMap: SETTABLE, announceMap: ANNOUNCED, read, write };
}
