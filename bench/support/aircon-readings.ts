import type { Observation } from '../../shared/reading.js';

/**
 * Observations as one poll of a home air conditioner (class 0x0130) makes them: eleven decoded
 * properties and the raw EDT of each EPC, ≈600 bytes of JSON once numbered. Values wander
 * deterministically, so payloads differ the way real ones do; `ts` steps back from `endAt`
 * so the readings look like a backlog that built up over hours.
 */
export interface AirconFleet {
  /** Aircons at the site; readings go round them in turn. */
  devices: number;
  /** Time between two readings of the site (all devices together), ms. */
  spacingMs: number;
  /** `ts` of the last reading, epoch ms. */
  endAt: number;
  /** How many readings the whole backlog holds (fixes `ts` of the first). */
  total: number;
}

const MODES = [0x41, 0x42, 0x43, 0x44, 0x45] as const;
const MODE_NAMES = { 0x41: 'auto', 0x42: 'cooling', 0x43: 'heating', 0x44: 'dehumidification', 0x45: 'circulation' } as const;

const hex = (value: number, bytes: number): string => (value >>> 0).toString(16).padStart(bytes * 2, '0').slice(-bytes * 2);

/** 32-bit integer hash: cheap, deterministic noise per (index, salt). */
function noise(index: number, salt: number): number {
  let x = (index * 0x9e3779b1 + salt * 0x85ebca6b) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  return x >>> 0;
}

export function deviceIdOf(device: number): string {
  // 0x83 identification: 0xFE, the manufacturer code 00000b, then 13 unique bytes; plus the EOJ.
  return `fe00000b${(0x5a1c0000 + device).toString(16).padStart(26, '0')}-013001`;
}

export function airconObservation(index: number, fleet: AirconFleet): Observation {
  const device = index % fleet.devices;
  const round = Math.floor(index / fleet.devices);
  const on = noise(round, device) % 10 !== 0;
  const mode = MODES[noise(device, 7) % MODES.length] ?? 0x42;
  const target = 20 + (noise(device, 3) % 9);
  const room = Math.round(100 * (target + 2 + Math.sin(round / 40 + device) * 3)) / 100;
  const roomByte = Math.round(room) & 0xff;
  const humidity = 35 + (noise(round, device + 11) % 40);
  const outdoor = 18 + (noise(round >> 4, device + 5) % 18);
  const power = on ? 300 + (noise(round, device + 17) % 1200) : 4;
  const energy = 1_250_000 + device * 7_000 + round * 9;
  const flow = 0x31 + (noise(round >> 3, device) % 5);
  return {
    deviceId: deviceIdOf(device),
    eoj: '013001',
    address: `192.168.${10 + (device >> 8)}.${(device & 0xff) + 1}`,
    ts: new Date(fleet.endAt - (fleet.total - 1 - index) * fleet.spacingMs).toISOString(),
    kind: 'poll',
    properties: {
      operationStatus: on,
      installationLocation: 'livingRoom',
      instantaneousElectricPowerConsumption: power,
      consumedCumulativeElectricEnergy: energy,
      faultStatus: false,
      airFlowLevel: flow - 0x30,
      operationMode: MODE_NAMES[mode],
      targetTemperature: target,
      humidity,
      roomTemperature: roomByte,
      outdoorTemperature: outdoor,
    },
    raw: {
      '80': on ? '30' : '31',
      '81': '08',
      '84': hex(power, 2),
      '85': hex(energy, 4),
      '88': '42',
      a0: hex(flow, 1),
      b0: hex(mode, 1),
      b3: hex(target, 1),
      ba: hex(humidity, 1),
      bb: hex(roomByte, 1),
      be: hex(outdoor, 1),
    },
  };
}

/** `count` observations starting at `from`, ready for one `ReadingStore.append`. */
export function airconBatch(from: number, count: number, fleet: AirconFleet): Observation[] {
  return Array.from({ length: count }, (_, i) => airconObservation(from + i, fleet));
}
