/**
 * A plausible home air conditioner: the room drifts towards the target while running and towards
 * the outdoor temperature while off; power is drawn while running and adds up to energy.
 * State keys are the MRA shortNames, so the node can answer any Get through the shared codecs.
 */
import type { PropertyValue } from '../../shared/reading.js';
import type { AirFlowLevel, OperationMode } from '../echonet/properties-home-air-conditioner.js';

export interface AirconState {
  readonly operationStatus: boolean;
  readonly operationMode: OperationMode;
  /** °C, whole degrees as a remote sets them. */
  readonly targetTemperature: number;
  /** °C, continuous; reported rounded to whole degrees as the protocol carries them. */
  readonly roomTemperature: number;
  readonly humidity: number;
  readonly outdoorTemperature: number;
  readonly airFlowLevel: AirFlowLevel;
  /** W */
  readonly instantaneousElectricPowerConsumption: number;
  /** kWh */
  readonly consumedCumulativeElectricEnergy: number;
  readonly faultStatus: boolean;
  readonly installationLocation: string;
}

/** Degrees per minute the room approaches the target at full air flow, and drifts back when off. */
const CONDITIONING_RATE_PER_MIN = 0.6;
const DRIFT_RATE_PER_MIN = 0.1;
const STANDBY_W = 0;
const FAN_ONLY_W = 40;
const COMPRESSOR_BASE_W = 300;
const COMPRESSOR_W_PER_DEGREE = 150;
const COMPRESSOR_MAX_W = 2_200;

export function initialAirconState(random: () => number): AirconState {
  const outdoor = Math.round(24 + random() * 10);
  const state: AirconState = {
    operationStatus: random() < 0.7,
    operationMode: 'cooling',
    targetTemperature: 24 + Math.floor(random() * 4),
    roomTemperature: outdoor - 1 - random() * 3,
    humidity: 45 + Math.floor(random() * 20),
    outdoorTemperature: outdoor,
    airFlowLevel: 'auto',
    instantaneousElectricPowerConsumption: 0,
    consumedCumulativeElectricEnergy: Math.round(random() * 500_000) / 1000,
    faultStatus: false,
    installationLocation: 'livingRoom',
  };
  // A zero-length step derives the power draw, so a running unit never reports 0 W (even with frozen physics).
  return stepAircon(state, 0);
}

function airFlowFactor(level: AirFlowLevel): number {
  return level === 'auto' ? 1 : 0.4 + (0.6 * level) / 8;
}

/** Where the running unit pushes the room: towards target in conditioning modes, nowhere for fan/dry. */
function conditioningGoal(state: AirconState): number | undefined {
  const { operationMode: mode, targetTemperature: target, roomTemperature: room } = state;
  if (mode === 'cooling') return Math.min(room, target);
  if (mode === 'heating') return Math.max(room, target);
  if (mode === 'auto') return target;
  return undefined;
}

function approach(from: number, to: number, maxStep: number): number {
  const delta = to - from;
  return Math.abs(delta) <= maxStep ? to : from + Math.sign(delta) * maxStep;
}

function powerDraw(state: AirconState, goal: number | undefined): number {
  if (!state.operationStatus) return STANDBY_W;
  if (goal === undefined) return FAN_ONLY_W;
  const gap = Math.abs(goal - state.roomTemperature);
  return Math.min(COMPRESSOR_MAX_W, Math.round(gap < 0.1 ? FAN_ONLY_W + 60 : COMPRESSOR_BASE_W + COMPRESSOR_W_PER_DEGREE * gap));
}

/** The state `elapsedMs` later. Pure, so tests can check the physics without sockets. */
export function stepAircon(state: AirconState, elapsedMs: number): AirconState {
  const minutes = elapsedMs / 60_000;
  const goal = state.operationStatus ? conditioningGoal(state) : undefined;
  const roomTemperature =
    goal === undefined
      ? approach(state.roomTemperature, state.outdoorTemperature, DRIFT_RATE_PER_MIN * minutes)
      : approach(state.roomTemperature, goal, CONDITIONING_RATE_PER_MIN * airFlowFactor(state.airFlowLevel) * minutes);
  const power = powerDraw({ ...state, roomTemperature }, goal);
  const energy = state.consumedCumulativeElectricEnergy + (power / 1000) * (elapsedMs / 3_600_000);
  return { ...state, roomTemperature, instantaneousElectricPowerConsumption: power, consumedCumulativeElectricEnergy: energy };
}

/** The values as a Get would report them now (whole degrees, whole percent, 0.001 kWh). */
export function reportedAircon(state: AirconState): Record<string, PropertyValue> {
  return {
    ...state,
    roomTemperature: Math.round(state.roomTemperature),
    outdoorTemperature: Math.round(state.outdoorTemperature),
    humidity: Math.round(state.humidity),
    instantaneousElectricPowerConsumption: Math.round(state.instantaneousElectricPowerConsumption),
    consumedCumulativeElectricEnergy: Math.floor(state.consumedCumulativeElectricEnergy * 1000) / 1000,
  };
}

/**
 * What someone with the remote control might do: mostly nudge the target temperature, sometimes
 * switch the unit on or off or change the mode. Every change touches an announced property.
 */
export function remoteControlChange(state: AirconState, random: () => number): Partial<AirconState> {
  const roll = random();
  if (roll < 0.2) return { operationStatus: !state.operationStatus };
  if (roll < 0.3) return { operationMode: state.operationMode === 'cooling' ? 'auto' : 'cooling' };
  const towardsMiddle = state.targetTemperature >= 28 ? -1 : state.targetTemperature <= 20 ? 1 : 0;
  const step = towardsMiddle !== 0 ? towardsMiddle : random() < 0.5 ? -1 : 1;
  return { targetTemperature: state.targetTemperature + step };
}
