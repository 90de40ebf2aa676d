import type { Availability, DeviceView } from './sources.js';

export const AVAILABILITIES: readonly Availability[] = ['online', 'unreachable', 'offline'];

/** How many devices are in each availability state; every state is present, zero included. */
export function countByAvailability(devices: readonly DeviceView[]): Record<Availability, number> {
  const counts: Record<Availability, number> = { online: 0, unreachable: 0, offline: 0 };
  for (const device of devices) counts[device.availability] += 1;
  return counts;
}
