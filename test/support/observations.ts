import type { Observation } from '../../shared/reading.js';

/** An aircon observation as the controller would emit it, for tests that need plausible data. */
export function aircon(deviceIndex: number, overrides: Partial<Observation> = {}): Observation {
  return {
    deviceId: `fe00000b${String(deviceIndex).padStart(26, '0')}-013001`,
    eoj: '013001',
    address: `127.0.0.${deviceIndex + 2}`,
    ts: new Date(Date.UTC(2026, 10, 23, 5, 0, deviceIndex)).toISOString(),
    kind: 'poll',
    properties: { operationStatus: true, targetTemperature: 26, roomTemperature: 28 - deviceIndex },
    raw: { '80': '30', b3: '1a', bb: (28 - deviceIndex).toString(16).padStart(2, '0') },
    ...overrides,
  };
}
