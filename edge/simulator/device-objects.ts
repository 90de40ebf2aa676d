/**
 * The device objects a simulated node hosts: one home air conditioner and, optionally, a temperature
 * sensor (a class the controller has no codecs for). Values are encoded with the same codecs the
 * controller decodes with, so both sides share one reading of the APPENDIX.
 */
import type { PropertyValue } from '../../shared/reading.js';
import { type Eoj, makeEoj } from '../echonet/eoj.js';
import { type LocalObject, type NodeIdentity, requireHex } from '../echonet/local-node.js';
import { AirconEpc } from '../echonet/properties-home-air-conditioner.js';
import { NO_FAULT, OPERATION_STATUS_ON, PROTOCOL_RELEASE_R, SuperClassEpc } from '../echonet/properties-super-class.js';
import { codecFor } from '../echonet/properties.js';
import { encodePropertyMap } from '../echonet/property-map.js';
import { type AirconState, reportedAircon } from './aircon-model.js';

export const AIRCON_EOJ = makeEoj(0x01, 0x30, 0x01);
/** Temperature sensor class 0x0011 (APPENDIX 3.1.17). */
export const TEMPERATURE_SENSOR_EOJ = makeEoj(0x00, 0x11, 0x01);

const LIVING_ROOM = Uint8Array.of(0x08);

/** Holds the air conditioner's state; the node swaps it as time passes and Sets arrive. */
export interface AirconStateBox {
  state: AirconState;
}

interface DeviceObjectSpec {
  readonly eoj: Eoj;
  readonly identity: NodeIdentity;
  /** Values that do not change. */
  readonly fixed: ReadonlyMap<number, Uint8Array>;
  /** Values read afresh on every Get; undefined when there is none right now. */
  readonly live: ReadonlyMap<number, () => Uint8Array | undefined>;
  readonly setMap: ReadonlySet<number>;
  readonly announceMap: ReadonlySet<number>;
  write(epc: number, edt: Uint8Array): boolean;
}

/** A device object with the super class's identity properties (0x82, 0x83, 0x8A) and maps added. */
function deviceObject(spec: DeviceObjectSpec): LocalObject {
  const values = new Map(spec.fixed);
  values.set(SuperClassEpc.protocol, PROTOCOL_RELEASE_R);
  values.set(SuperClassEpc.manufacturer, requireHex(spec.identity.makerCode, 3, 'makerCode'));
  if (spec.identity.nodeId !== null) values.set(SuperClassEpc.id, requireHex(spec.identity.nodeId, 17, 'nodeId'));
  const maps = [SuperClassEpc.statusChangeAnnouncementPropertyMap, SuperClassEpc.setPropertyMap, SuperClassEpc.getPropertyMap];
  const getMap = new Set([...values.keys(), ...spec.live.keys(), ...maps]);
  values.set(SuperClassEpc.statusChangeAnnouncementPropertyMap, encodePropertyMap(spec.announceMap));
  values.set(SuperClassEpc.setPropertyMap, encodePropertyMap(spec.setMap));
  values.set(SuperClassEpc.getPropertyMap, encodePropertyMap(getMap));
  return {
    eoj: spec.eoj,
    getMap,
    setMap: spec.setMap,
    announceMap: spec.announceMap,
    read: (epc) => values.get(epc) ?? spec.live.get(epc)?.(),
    write: (epc, edt) => spec.write(epc, edt),
  };
}

/** Maker-specific EPCs with fixed contents, like the 0xF0–0xFD block real units expose. */
const VENDOR_VALUES = new Map<number, Uint8Array>([
  [0xf0, Uint8Array.of(0x01)],
  [0xf1, Uint8Array.of(0x00, 0x10)],
  [0xf2, Uint8Array.of(0x42)],
  [0xf3, Uint8Array.of(0xde, 0xad, 0xbe, 0xef)],
]);

/**
 * Optional air conditioner settings (APPENDIX 3.3.1) that large units list besides what we read, one
 * byte each. With them every property map has 16 or more entries and so travels as a bitmap.
 */
const EXTENDED_SETTINGS: ReadonlyArray<readonly [epc: number, initial: number]> = [
  [0x8f, 0x42], // power-saving operation: normal
  [0xa1, 0x41], // automatic air flow direction: automatic
  [0xa3, 0x31], // automatic swing of air flow: off
  [0xa4, 0x41], // air flow direction (vertical): uppermost
  [0xb1, 0x41], // automatic temperature control: automatic
  [0xb2, 0x41], // normal / high-speed / silent operation: normal
  [0xb4, 50], // relative humidity in dehumidifying mode: 50 %
  [0xb5, 26], // temperature in cooling mode: 26 °C
  [0xb6, 20], // temperature in heating mode: 20 °C
  [0xb7, 24], // temperature in dehumidifying mode: 24 °C
  [0xc0, 0x42], // ventilation: off
];

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

const SETTABLE: readonly number[] = [
  SuperClassEpc.operationStatus,
  SuperClassEpc.installationLocation,
  AirconEpc.airFlowLevel,
  AirconEpc.operationMode,
  AirconEpc.targetTemperature,
];

/** The INF map: everything required to announce, plus the target temperature. */
const ANNOUNCED: readonly number[] = [
  SuperClassEpc.operationStatus,
  SuperClassEpc.installationLocation,
  SuperClassEpc.faultStatus,
  AirconEpc.operationMode,
  AirconEpc.targetTemperature,
];

function isSettableValue(name: string, value: PropertyValue): boolean {
  // "No valid value" codes are for devices to report, never for controllers to set.
  return value !== null && !(name === 'installationLocation' && value === 'unspecified');
}

export interface AirconOptions {
  readonly vendorEpcs: boolean;
  readonly extendedPropertyMaps: boolean;
}

export function airconObject(identity: NodeIdentity, box: AirconStateBox, options: AirconOptions): LocalObject {
  const extended = new Map<number, Uint8Array>(options.extendedPropertyMaps ? EXTENDED_SETTINGS.map(([epc, byte]) => [epc, Uint8Array.of(byte)]) : []);
  const stateValue = (epc: number) => (): Uint8Array | undefined => {
    const codec = codecFor(AIRCON_EOJ, epc);
    const reported = codec === undefined ? undefined : reportedAircon(box.state)[codec.name];
    const encoded = reported === undefined ? undefined : codec?.encode(reported);
    return encoded?.ok ? encoded.value : undefined;
  };
  const live = new Map<number, () => Uint8Array | undefined>([
    ...AIRCON_STATE_EPCS.map((epc) => [epc, stateValue(epc)] as const),
    ...[...extended.keys()].map((epc) => [epc, () => extended.get(epc)] as const),
  ]);
  const setMap = new Set([...SETTABLE, ...extended.keys()]);

  const writeState = (epc: number, edt: Uint8Array): boolean => {
    const codec = codecFor(AIRCON_EOJ, epc);
    if (codec === undefined) return false;
    const decoded = codec.decode(edt);
    if (decoded.kind !== 'value' || !isSettableValue(codec.name, decoded.value)) return false;
    box.state = { ...box.state, [codec.name]: decoded.value };
    return true;
  };
  const write = (epc: number, edt: Uint8Array): boolean => {
    if (!setMap.has(epc)) return false;
    if (!extended.has(epc)) return writeState(epc, edt);
    if (edt.length !== 1) return false;
    extended.set(epc, Uint8Array.from(edt));
    return true;
  };

  return deviceObject({
    eoj: AIRCON_EOJ,
    identity,
    fixed: options.vendorEpcs ? VENDOR_VALUES : new Map(),
    live,
    setMap,
    announceMap: new Set([...ANNOUNCED, ...extended.keys()]),
    write,
  });
}

const MEASURED_TEMPERATURE_EPC = 0xe0;

/** Signed 0.1 °C in two bytes, −273.2…3276.6 °C (APPENDIX 3.1.17). */
function encodeTenthsOfDegree(celsius: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setInt16(0, Math.round(celsius * 10));
  return out;
}

/** A temperature sensor in the same room: it reads the room temperature the air conditioner works on. */
export function temperatureSensorObject(identity: NodeIdentity, box: AirconStateBox): LocalObject {
  return deviceObject({
    eoj: TEMPERATURE_SENSOR_EOJ,
    identity,
    fixed: new Map([
      [SuperClassEpc.operationStatus, OPERATION_STATUS_ON],
      [SuperClassEpc.installationLocation, LIVING_ROOM],
      [SuperClassEpc.faultStatus, NO_FAULT],
    ]),
    live: new Map([[MEASURED_TEMPERATURE_EPC, () => encodeTenthsOfDegree(box.state.roomTemperature)]]),
    setMap: new Set(),
    announceMap: new Set([SuperClassEpc.operationStatus]),
    write: () => false,
  });
}
