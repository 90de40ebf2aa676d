import { ClassCode } from './eoj.js';

/** Web API guideline device-type names of the classes the gateway decodes; others go by class code. */
const DEVICE_TYPES: ReadonlyMap<number, string> = new Map([[ClassCode.homeAirConditioner, 'homeAirConditioner']]);

/** `homeAirConditioner` for class 0x0130; `0x0291` for a class without a guideline name here. `eoj` is six hex digits. */
export function guidelineDeviceType(eoj: string): string {
  const classHex = eoj.slice(0, 4);
  return DEVICE_TYPES.get(Number.parseInt(classHex, 16)) ?? `0x${classHex}`;
}
