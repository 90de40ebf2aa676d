/**
 * ECHONET object identifiers (EOJ): class group, class, instance — one byte each.
 * Instance 0 addresses every instance of a class.
 */
export interface Eoj {
  readonly classGroup: number;
  readonly classCode: number;
  readonly instance: number;
}

/** Class codes as `classGroup << 8 | classCode`, the form the APPENDIX writes them in (0x0130). */
export const ClassCode = {
  nodeProfile: 0x0ef0,
  homeAirConditioner: 0x0130,
  controller: 0x05ff,
} as const;

export const NODE_PROFILE_EOJ: Eoj = { classGroup: 0x0e, classCode: 0xf0, instance: 0x01 };
/** What we present ourselves as: a controller object. */
export const CONTROLLER_EOJ: Eoj = { classGroup: 0x05, classCode: 0xff, instance: 0x01 };

function isByte(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xff;
}

export function makeEoj(classGroup: number, classCode: number, instance: number): Eoj {
  if (!isByte(classGroup) || !isByte(classCode) || !isByte(instance)) {
    throw new RangeError(`EOJ parts must be bytes: ${classGroup}, ${classCode}, ${instance}`);
  }
  return { classGroup, classCode, instance };
}

export function isValidEoj(eoj: Eoj): boolean {
  return isByte(eoj.classGroup) && isByte(eoj.classCode) && isByte(eoj.instance);
}

export function classOf(eoj: Eoj): number {
  return (eoj.classGroup << 8) | eoj.classCode;
}

/** Six lowercase hex digits, e.g. `013001` — the form used in device ids and observations. */
export function eojToHex(eoj: Eoj): string {
  return [eoj.classGroup, eoj.classCode, eoj.instance].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function parseEojHex(hex: string): Eoj | undefined {
  if (!/^[0-9a-fA-F]{6}$/.test(hex)) return undefined;
  const n = Number.parseInt(hex, 16);
  return { classGroup: (n >> 16) & 0xff, classCode: (n >> 8) & 0xff, instance: n & 0xff };
}

/** Whether a frame addressed to `target` reaches the object `self` (instance 0 = all instances). */
export function eojAddresses(target: Eoj, self: Eoj): boolean {
  return classOf(target) === classOf(self) && (target.instance === 0 || target.instance === self.instance);
}

export function isNodeProfile(eoj: Eoj): boolean {
  return classOf(eoj) === ClassCode.nodeProfile;
}

export function isHomeAirConditioner(eoj: Eoj): boolean {
  return classOf(eoj) === ClassCode.homeAirConditioner;
}

/**
 * Whether the edge reads this object: every device object except node profiles and controllers.
 * A controller (another HEMS, a remote) has no state of its own worth polling, and nodes that host
 * only one are not devices.
 */
export function isReadObject(eoj: Eoj): boolean {
  return !isNodeProfile(eoj) && classOf(eoj) !== ClassCode.controller;
}
