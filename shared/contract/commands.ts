/**
 * The command contract (cloud → site) and its results (site → cloud): one JSON schema each, the
 * TypeScript types derived from them, and the parsers both sides use. A command goes to one site
 * on `echolake/v1/sites/{id}/commands`; every outcome comes back on `…/command-results`.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { describeSchemaErrors, type Parsed, parseWithSchema } from '../parsed.js';
import { SITE_ID_PATTERN } from '../reading-schema.js';
import { type SettableProperties, settablePropertiesSchema } from './settable.js';

export { SETTABLE_NAMES, type SettableName, type SettableProperties, settablePropertiesSchema } from './settable.js';

const COMMAND_CONTRACT = 'the command contract';

export const COMMAND_SCHEMA_VERSION = 1;

/** Command ids appear in topics of logs and as database keys: a safe alphabet, bounded. */
export const COMMAND_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
/** The most devices one command names at one site. */
export const MAX_COMMAND_DEVICES = 256;

const DATE_TIME = { type: 'string', format: 'date-time' } as const;

export const commandSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'commandId', 'siteId', 'author', 'reason', 'issuedAt', 'notBefore', 'expiresAt', 'devices', 'set', 'restore'],
  properties: {
    v: { const: COMMAND_SCHEMA_VERSION },
    commandId: { type: 'string', pattern: COMMAND_ID_PATTERN },
    siteId: { type: 'string', pattern: SITE_ID_PATTERN },
    /** The operator whose token issued it. */
    author: { type: 'string', minLength: 1, maxLength: 64 },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
    issuedAt: DATE_TIME,
    /** Not executed before this instant; executed at it when it arrived earlier. */
    notBefore: DATE_TIME,
    /** Never executed at or after this instant; a restore happens at it. */
    expiresAt: DATE_TIME,
    /** `all`: every air conditioner of the site; otherwise the listed device ids. */
    devices: {
      oneOf: [
        { const: 'all' },
        { type: 'array', minItems: 1, maxItems: MAX_COMMAND_DEVICES, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 128 } },
      ],
    },
    /** Values to set. */
    set: settablePropertiesSchema,
    /** Degrees added to each unit's current targetTemperature (demand response), besides `set`. */
    setpointOffset: { type: 'integer', minimum: -10, maximum: 10 },
    /** At `expiresAt`, put back what the command changed and is still as it left it. */
    restore: { type: 'boolean' },
  },
} as const;
export type Command = FromSchema<typeof commandSchema>;

/**
 * The states of a command at one target, cloud and edge together: the cloud sets `pending` and
 * `delivered` (the site said `received`); the rest come from the edge.
 */
export const TARGET_STATES = ['pending', 'delivered', 'received', 'applied', 'verified', 'refused', 'expired', 'offline', 'failed', 'restored', 'restore-skipped'] as const;
export type TargetState = (typeof TARGET_STATES)[number];
/** What an edge reports. */
export const RESULT_STATES = ['received', 'applied', 'verified', 'refused', 'expired', 'offline', 'failed', 'restored', 'restore-skipped'] as const;

const propertyValuesSchema = {
  type: 'object',
  maxProperties: 32,
  additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
} as const;

export const commandResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'commandId', 'siteId', 'state', 'at'],
  properties: {
    v: { const: COMMAND_SCHEMA_VERSION },
    commandId: { type: 'string', pattern: COMMAND_ID_PATTERN },
    siteId: { type: 'string', pattern: SITE_ID_PATTERN },
    /** Absent: the whole command at the site (received, refused by policy, expired). */
    deviceId: { type: 'string', minLength: 1, maxLength: 128 },
    state: { enum: RESULT_STATES },
    /** Why refused, failed, offline or skipped, in words. */
    reason: { type: 'string', maxLength: 500 },
    at: DATE_TIME,
    /** What was read back after the set (verified) or the restore. */
    values: propertyValuesSchema,
    /** What the device had before the set: what a restore puts back. */
    previous: propertyValuesSchema,
  },
} as const;
export type CommandResult = FromSchema<typeof commandResultSchema>;
export type ResultState = CommandResult['state'];

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/);
const validateCommand = ajv.compile<Command>(commandSchema);
const validateResult = ajv.compile<CommandResult>(commandResultSchema);
const validateSettable = ajv.compile<SettableProperties>(settablePropertiesSchema);

/** The most bytes a command or result message may have; both are far smaller. */
export const MAX_COMMAND_BYTES = 16_384;

export function parseCommand(payload: Buffer | string): Parsed<Command> {
  const parsed = parseBounded(payload, validateCommand);
  if (!parsed.ok) return parsed;
  const command = parsed.value;
  if (Date.parse(command.expiresAt) <= Date.parse(command.notBefore)) return { ok: false, error: `expiresAt ${command.expiresAt} is not after notBefore ${command.notBefore}` };
  if (Object.keys(command.set).length === 0 && command.setpointOffset === undefined) return { ok: false, error: 'the command sets nothing: give set or setpointOffset' };
  return parsed;
}

export function parseCommandResult(payload: Buffer | string): Parsed<CommandResult> {
  return parseBounded(payload, validateResult);
}

/** Checks values to set (for the edge's local API, which takes one property at a time). */
export function checkSettable(values: unknown): Parsed<SettableProperties> {
  return validateSettable(values) ? { ok: true, value: values } : { ok: false, error: describeSchemaErrors(validateSettable.errors, COMMAND_CONTRACT) };
}

export function encodeCommand(command: Command): string {
  return JSON.stringify(command);
}

export function encodeCommandResult(result: CommandResult): string {
  return JSON.stringify(result);
}

function parseBounded<T>(payload: Buffer | string, validate: ((value: unknown) => value is T) & { errors?: ErrorObject[] | null }): Parsed<T> {
  if (payload.length > MAX_COMMAND_BYTES) return { ok: false, error: `${payload.length} bytes, more than the ${MAX_COMMAND_BYTES} a command message may have` };
  return parseWithSchema(payload, validate, COMMAND_CONTRACT);
}
