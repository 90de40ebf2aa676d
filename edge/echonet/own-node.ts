/**
 * The gateway as an ECHONET Lite node of its own: a node profile listing one controller object.
 * Some devices Get the controller's node profile (0x83, 0xD6, …) before they send INFC, and other
 * controllers search for it; a node that does not answer looks broken to them.
 */
import { createHash } from 'node:crypto';
import { CONTROLLER_EOJ } from './eoj.js';
import { type LocalObject, type NodeIdentity, LocalNode, fixedObject, nodeProfileObject, requireHex } from './local-node.js';
import { NO_FAULT, OPERATION_STATUS_ON, PROTOCOL_RELEASE_R, SuperClassEpc } from './properties-super-class.js';
import { encodePropertyMap } from './property-map.js';

/** The maker code the MRA reserves for experimental use; a vendor shipping the gateway sets its own. */
export const EXPERIMENTAL_MAKER_CODE = 'ffffff';
const LOCATION_UNSPECIFIED = Uint8Array.of(0x00);

/**
 * 0xFE + maker code + 13 bytes derived from `seed` (the gateway's interface and port), so the number
 * stays the same across restarts without any state on disk.
 */
export function derivedIdentificationNumber(makerCode: string, seed: string): string {
  const unique = createHash('sha256').update(`echolake-controller/${seed}`).digest('hex').slice(0, 26);
  return `fe${makerCode}${unique}`;
}

function controllerObject(identity: NodeIdentity): LocalObject {
  const announceMap = new Set<number>([SuperClassEpc.operationStatus, SuperClassEpc.faultStatus]);
  const values = new Map<number, Uint8Array>([
    [SuperClassEpc.operationStatus, OPERATION_STATUS_ON],
    [SuperClassEpc.installationLocation, LOCATION_UNSPECIFIED],
    [SuperClassEpc.protocol, PROTOCOL_RELEASE_R],
    [SuperClassEpc.faultStatus, NO_FAULT],
    [SuperClassEpc.manufacturer, requireHex(identity.makerCode, 3, 'makerCode')],
  ]);
  if (identity.nodeId !== null) values.set(SuperClassEpc.id, requireHex(identity.nodeId, 17, 'identificationNumber'));
  const getMap = [...values.keys(), SuperClassEpc.statusChangeAnnouncementPropertyMap, SuperClassEpc.setPropertyMap, SuperClassEpc.getPropertyMap];
  values.set(SuperClassEpc.statusChangeAnnouncementPropertyMap, encodePropertyMap(announceMap));
  values.set(SuperClassEpc.setPropertyMap, encodePropertyMap([]));
  values.set(SuperClassEpc.getPropertyMap, encodePropertyMap(getMap));
  return fixedObject(CONTROLLER_EOJ, values, announceMap);
}

export interface OwnNode {
  readonly node: LocalNode;
  readonly nodeProfile: LocalObject;
  readonly identity: NodeIdentity;
}

export function createOwnNode(identity: NodeIdentity): OwnNode {
  const nodeProfile = nodeProfileObject(identity, [CONTROLLER_EOJ]);
  return { node: new LocalNode([nodeProfile, controllerObject(identity)]), nodeProfile, identity };
}
