/** Home air conditioner class 0x0130 (APPENDIX 3.3.1; MRA devices/0x0130). */
import { type PropertyCodec, signedTemperatureCodec, stateCodec, unsignedCodec } from './property-codec.js';

export const AirconEpc = {
  airFlowLevel: 0xa0,
  operationMode: 0xb0,
  targetTemperature: 0xb3,
  humidity: 0xba,
  roomTemperature: 0xbb,
  outdoorTemperature: 0xbe,
} as const;

export type OperationMode = 'auto' | 'cooling' | 'heating' | 'dehumidification' | 'circulation' | 'other';

export const OPERATION_MODES: ReadonlyArray<readonly [byte: number, mode: OperationMode]> = [
  [0x41, 'auto'],
  [0x42, 'cooling'],
  [0x43, 'heating'],
  [0x44, 'dehumidification'],
  [0x45, 'circulation'],
  [0x40, 'other'],
];

/** Air flow level: 0x31–0x38 are levels 1–8, 0x41 is automatic. */
export type AirFlowLevel = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 'auto';

const AIR_FLOW_LEVELS: ReadonlyArray<readonly [byte: number, level: AirFlowLevel]> = [
  [0x41, 'auto'],
  ...([1, 2, 3, 4, 5, 6, 7, 8] as const).map((level) => [0x30 + level, level] as const),
];

export const HOME_AIR_CONDITIONER_CODECS: readonly PropertyCodec[] = [
  stateCodec(AirconEpc.airFlowLevel, 'airFlowLevel', AIR_FLOW_LEVELS),
  stateCodec(AirconEpc.operationMode, 'operationMode', OPERATION_MODES),
  // °C 0–50; 0xFD = undefined (e.g. in fan mode).
  unsignedCodec(AirconEpc.targetTemperature, 'targetTemperature', { bytes: 1, min: 0, max: 50, noValidValue: [0xfd] }),
  // % 0–100; 0xFD = unmeasurable.
  unsignedCodec(AirconEpc.humidity, 'humidity', { bytes: 1, min: 0, max: 100, noValidValue: [0xfd] }),
  signedTemperatureCodec(AirconEpc.roomTemperature, 'roomTemperature'),
  signedTemperatureCodec(AirconEpc.outdoorTemperature, 'outdoorTemperature'),
];
