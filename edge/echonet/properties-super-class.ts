/**
 * Device object super class (APPENDIX chapter 2; MRA superClass/0x0000): properties every device
 * object may have. Names are the MRA shortNames, values as the Web API guideline shows them.
 */
import type { PropertyValue } from '../../shared/reading.js';
import {
  type PropertyCodec,
  customCodec,
  hexCodec,
  invalid,
  NO_VALID_VALUE,
  onOffCodec,
  unsignedCodec,
  value,
  yesNoCodec,
} from './property-codec.js';
import { propertyMapCodec } from './properties-common.js';

export const SuperClassEpc = {
  operationStatus: 0x80,
  installationLocation: 0x81,
  protocol: 0x82,
  id: 0x83,
  instantaneousElectricPowerConsumption: 0x84,
  consumedCumulativeElectricEnergy: 0x85,
  faultStatus: 0x88,
  manufacturer: 0x8a,
  businessFacilityCode: 0x8b,
  productCode: 0x8c,
  productionNumber: 0x8d,
  productionDate: 0x8e,
  statusChangeAnnouncementPropertyMap: 0x9d,
  setPropertyMap: 0x9e,
  getPropertyMap: 0x9f,
} as const;

/** EDTs the objects this process hosts report (its controller object, simulated devices). */
export const OPERATION_STATUS_ON = Uint8Array.of(0x30);
export const NO_FAULT = Uint8Array.of(0x42);
/** `00 00 'R' 01`: APPENDIX Release R, the release our codecs follow. */
export const PROTOCOL_RELEASE_R = Uint8Array.of(0x00, 0x00, 0x52, 0x01);

/** Location codes of the one-byte form (bits 7–3); bits 2–0 number rooms of the same kind. */
const LOCATIONS: ReadonlyArray<readonly [code: number, name: string]> = [
  [0x08, 'livingRoom'],
  [0x10, 'diningRoom'],
  [0x18, 'kitchen'],
  [0x20, 'bathroom'],
  [0x28, 'lavatory'],
  [0x30, 'washroom'],
  [0x38, 'passageway'],
  [0x40, 'room'],
  [0x48, 'stairway'],
  [0x50, 'frontDoor'],
  [0x58, 'storeroom'],
  [0x60, 'garden'],
  [0x68, 'garage'],
  [0x70, 'veranda'],
  [0x78, 'others'],
];
const LOCATION_BY_CODE = new Map(LOCATIONS);
const LOCATION_BY_NAME = new Map(LOCATIONS.map(([code, name]) => [name, code]));
const UNSPECIFIED_LOCATION = 0x00;
const INDEFINITE_LOCATION = 0xff;

/**
 * One-byte form only: `livingRoom`, `livingRoom2` (room number 2), `unspecified`; 0xFF (indefinite)
 * is no valid value. The 17-byte position form and free definitions (0x80–0xFE) stay raw.
 */
function decodeLocation(edt: Uint8Array) {
  if (edt.length !== 1) return invalid('only the one-byte location form is decoded');
  const byte = edt[0] as number;
  if (byte === UNSPECIFIED_LOCATION) return value('unspecified');
  if (byte === INDEFINITE_LOCATION) return NO_VALID_VALUE;
  const name = LOCATION_BY_CODE.get(byte & 0xf8);
  if (byte >= 0x80 || name === undefined) return invalid(`location 0x${byte.toString(16)} is not a defined room`);
  const number = byte & 0x07;
  return value(number === 0 ? name : `${name}${number}`);
}

function encodeLocation(v: PropertyValue): Uint8Array | undefined {
  if (v === null) return Uint8Array.of(INDEFINITE_LOCATION);
  if (v === 'unspecified') return Uint8Array.of(UNSPECIFIED_LOCATION);
  const match = typeof v === 'string' ? /^([a-zA-Z]+)([1-7]?)$/.exec(v) : null;
  const code = match?.[1] === undefined ? undefined : LOCATION_BY_NAME.get(match[1]);
  if (code === undefined) return undefined;
  return Uint8Array.of(code | Number(match?.[2] ?? 0));
}

/** `00 00 'R' rev` → `Rel.R` (release letter; the revision byte stays in the raw hex). */
function decodeProtocol(edt: Uint8Array) {
  if (edt.length !== 4) return invalid('protocol needs 4 bytes');
  const letter = edt[2] as number;
  const isLetter = (letter >= 0x41 && letter <= 0x5a) || letter === 0x61; // Release A is written lowercase.
  return isLetter ? value(`Rel.${String.fromCharCode(letter).toUpperCase()}`) : invalid(`release byte 0x${letter.toString(16)}`);
}

function encodeProtocol(v: PropertyValue): Uint8Array | undefined {
  const match = typeof v === 'string' ? /^Rel\.([A-Z])$/.exec(v) : null;
  if (match?.[1] === undefined) return undefined;
  const letter = match[1] === 'A' ? 0x61 : match[1].charCodeAt(0);
  return Uint8Array.of(0x00, 0x00, letter, 0x00);
}

export const SUPER_CLASS_CODECS: readonly PropertyCodec[] = [
  onOffCodec(SuperClassEpc.operationStatus, 'operationStatus'),
  customCodec(SuperClassEpc.installationLocation, 'installationLocation', decodeLocation, encodeLocation),
  customCodec(SuperClassEpc.protocol, 'protocol', decodeProtocol, encodeProtocol),
  hexCodec(SuperClassEpc.id, 'id', 17),
  // Watts, 0–65533; 0xFFFE/0xFFFF are the overflow/underflow codes of unsigned shorts.
  unsignedCodec(SuperClassEpc.instantaneousElectricPowerConsumption, 'instantaneousElectricPowerConsumption', {
    bytes: 2,
    min: 0,
    max: 65533,
    noValidValue: [0xfffe, 0xffff],
  }),
  // kWh in steps of 0.001, 0–999 999.999; 0xFFFFFFFE/0xFFFFFFFF as above for unsigned longs.
  unsignedCodec(SuperClassEpc.consumedCumulativeElectricEnergy, 'consumedCumulativeElectricEnergy', {
    bytes: 4,
    min: 0,
    max: 999_999_999,
    step: 0.001,
    noValidValue: [0xfffffffe, 0xffffffff],
  }),
  yesNoCodec(SuperClassEpc.faultStatus, 'faultStatus'),
  hexCodec(SuperClassEpc.manufacturer, 'manufacturer', 3),
  propertyMapCodec(SuperClassEpc.statusChangeAnnouncementPropertyMap, 'statusChangeAnnouncementPropertyMap'),
  propertyMapCodec(SuperClassEpc.setPropertyMap, 'setPropertyMap'),
  propertyMapCodec(SuperClassEpc.getPropertyMap, 'getPropertyMap'),
];
