/**
 * The site's own say over remote control: off unless the site turns it on, which properties a
 * command may set, the setpoints it may leave, the longest window it may hold the units for. The
 * cloud cannot change it; a command outside it is refused with the reason.
 */
import type { FromSchema } from 'json-schema-to-ts';
import { type Command, SETTABLE_NAMES, type SettableName } from '../../shared/contract/commands.js';

export const commandsConfigSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  required: ['enabled', 'properties', 'targetTemperatureMin', 'targetTemperatureMax', 'maxWindowMinutes'],
  properties: {
    enabled: { type: 'boolean', default: false, description: 'carry out commands from the cloud (remote control); off: every command is refused and reported so' },
    properties: {
      type: 'array',
      uniqueItems: true,
      items: { enum: SETTABLE_NAMES },
      default: ['operationStatus', 'operationMode', 'targetTemperature', 'airFlowLevel'],
      description: 'the properties a command may set; a command setting any other is refused whole',
    },
    targetTemperatureMin: { type: 'integer', minimum: 0, maximum: 50, default: 18, description: 'lowest setpoint (°C) a command may leave a unit at' },
    targetTemperatureMax: { type: 'integer', minimum: 0, maximum: 50, default: 30, description: 'highest setpoint (°C) a command may leave a unit at' },
    maxWindowMinutes: {
      type: 'integer',
      minimum: 1,
      maximum: 10_080,
      default: 240,
      description: 'the longest window (notBefore to expiresAt) a command may have; its restore happens at the window\'s end',
    },
  },
} as const;

export type CommandPolicy = FromSchema<typeof commandsConfigSchema>;

/** Why the policy refuses the command as a whole, or undefined when it may go ahead. */
export function policyRefusal(command: Command, policy: CommandPolicy): string | undefined {
  if (!policy.enabled) return 'remote control is off at this site (commands.enabled is false in the edge configuration)';
  const wanted = Object.keys(command.set) as SettableName[];
  if (command.setpointOffset !== undefined) wanted.push('targetTemperature');
  const forbidden = wanted.filter((name) => !policy.properties.includes(name));
  if (forbidden.length > 0) return `this site does not allow remote setting of ${[...new Set(forbidden)].join(', ')} (commands.properties)`;
  const windowMinutes = (Date.parse(command.expiresAt) - Date.parse(command.notBefore)) / 60_000;
  if (windowMinutes > policy.maxWindowMinutes) {
    return `the window of ${Math.ceil(windowMinutes)} minutes is longer than this site's ${policy.maxWindowMinutes} (commands.maxWindowMinutes)`;
  }
  const setpoint = command.set.targetTemperature;
  return setpoint === undefined ? undefined : setpointRefusal(setpoint, policy);
}

/** Why a setpoint is outside the site's limits, or undefined. */
export function setpointRefusal(setpoint: number, policy: CommandPolicy): string | undefined {
  if (setpoint >= policy.targetTemperatureMin && setpoint <= policy.targetTemperatureMax) return undefined;
  return `targetTemperature ${setpoint} is outside this site's ${policy.targetTemperatureMin}–${policy.targetTemperatureMax} °C (commands.targetTemperatureMin/Max)`;
}
