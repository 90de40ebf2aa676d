/** Node profile class 0x0EF0 (APPENDIX / MRA nodeProfile): who a node is and which objects it hosts. */
import type { PropertyValue } from '../../shared/reading.js';
import { type PropertyCodec, customCodec, hexCodec, invalid, onOffCodec, unsignedCodec, value, yesNoCodec } from './property-codec.js';
import { classListCodec, instanceListCodec, propertyMapCodec } from './properties-common.js';

export const NodeProfileEpc = {
  operatingStatus: 0x80,
  version: 0x82,
  id: 0x83,
  faultStatus: 0x88,
  manufacturer: 0x8a,
  statusChangeAnnouncementPropertyMap: 0x9d,
  setPropertyMap: 0x9e,
  getPropertyMap: 0x9f,
  selfNodeInstances: 0xd3,
  selfNodeClasses: 0xd4,
  instanceListNotification: 0xd5,
  selfNodeInstanceListS: 0xd6,
  selfNodeClassListS: 0xd7,
} as const;

/** Bit 0 of the third version byte: the specified message format (EHD2 0x81) is supported. */
const SPECIFIED_FORMAT_SUPPORTED = 0x01;

/** `major minor formats 00` → `1.13`; the supported-format bitmap stays in the raw hex. */
function decodeVersion(edt: Uint8Array) {
  return edt.length === 4 ? value(`${edt[0] as number}.${edt[1] as number}`) : invalid('version needs 4 bytes');
}

function encodeVersion(v: PropertyValue): Uint8Array | undefined {
  const match = typeof v === 'string' ? /^(\d{1,3})\.(\d{1,3})$/.exec(v) : null;
  if (match === null) return undefined;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 0xff || minor > 0xff ? undefined : Uint8Array.of(major, minor, SPECIFIED_FORMAT_SUPPORTED, 0x00);
}

export const NODE_PROFILE_CODECS: readonly PropertyCodec[] = [
  onOffCodec(NodeProfileEpc.operatingStatus, 'operatingStatus'),
  customCodec(NodeProfileEpc.version, 'version', decodeVersion, encodeVersion),
  hexCodec(NodeProfileEpc.id, 'id', 17),
  yesNoCodec(NodeProfileEpc.faultStatus, 'faultStatus'),
  hexCodec(NodeProfileEpc.manufacturer, 'manufacturer', 3),
  propertyMapCodec(NodeProfileEpc.statusChangeAnnouncementPropertyMap, 'statusChangeAnnouncementPropertyMap'),
  propertyMapCodec(NodeProfileEpc.setPropertyMap, 'setPropertyMap'),
  propertyMapCodec(NodeProfileEpc.getPropertyMap, 'getPropertyMap'),
  // Instances excluding the node profile itself.
  unsignedCodec(NodeProfileEpc.selfNodeInstances, 'selfNodeInstances', { bytes: 3, min: 0, max: 0xffffff }),
  // Classes including the node profile class.
  unsignedCodec(NodeProfileEpc.selfNodeClasses, 'selfNodeClasses', { bytes: 2, min: 0, max: 0xffff }),
  instanceListCodec(NodeProfileEpc.instanceListNotification, 'instanceListNotification'),
  instanceListCodec(NodeProfileEpc.selfNodeInstanceListS, 'selfNodeInstanceListS'),
  classListCodec(NodeProfileEpc.selfNodeClassListS, 'selfNodeClassListS'),
];
