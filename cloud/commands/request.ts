/**
 * `POST /api/v1/commands`: what an operator asks for, and its plan — one command message per
 * site, all under one command id. Pure: the sites come from the registry passed in.
 */
import { randomUUID } from 'node:crypto';
import type { FromSchema } from 'json-schema-to-ts';
import { type Command, COMMAND_SCHEMA_VERSION, settablePropertiesSchema } from '../../shared/contract/commands.js';
import type { Site } from '../sites/registry.js';

const SITE_ID = { type: 'string', minLength: 1, maxLength: 64 } as const;

export const commandRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['target', 'reason', 'expiresAt'],
  properties: {
    target: {
      description: 'one device of a site, a whole site, sites by list, or sites by a location box',
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['siteId'],
          properties: { siteId: SITE_ID, deviceId: { type: 'string', minLength: 1, maxLength: 128 } },
        },
        { type: 'object', additionalProperties: false, required: ['siteIds'], properties: { siteIds: { type: 'array', minItems: 1, maxItems: 10_000, uniqueItems: true, items: SITE_ID } } },
        {
          type: 'object',
          additionalProperties: false,
          required: ['box'],
          properties: {
            box: {
              type: 'object',
              additionalProperties: false,
              required: ['south', 'west', 'north', 'east'],
              properties: {
                south: { type: 'number', minimum: -90, maximum: 90 },
                west: { type: 'number', minimum: -180, maximum: 180 },
                north: { type: 'number', minimum: -90, maximum: 90 },
                east: { type: 'number', minimum: -180, maximum: 180 },
              },
            },
          },
        },
      ],
    },
    set: { ...settablePropertiesSchema, description: 'values by their ECHONET Lite spec names' },
    setpointOffset: { type: 'integer', minimum: -10, maximum: 10, description: 'degrees added to each unit\'s current targetTemperature' },
    notBefore: { type: 'string', format: 'date-time', description: 'not carried out before (default: now)' },
    expiresAt: { type: 'string', format: 'date-time', description: 'never carried out at or after; the restore happens then' },
    restore: { type: 'boolean', default: false, description: 'at expiresAt, put back what the command changed and is still as it left it' },
    reason: { type: 'string', minLength: 1, maxLength: 500, description: 'why, for the audit' },
  },
} as const;

export type CommandRequest = FromSchema<typeof commandRequestSchema>;

/**
 * `POST /api/v1/demand-response`: a campaign — raise (or lower) the setpoints of many sites by a
 * few degrees for a window and put them back after. It is a command with a setpoint offset and a
 * restore, named for the audit.
 */
export const demandResponseRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'target', 'setpointOffset', 'endsAt'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 100, description: 'the campaign, as the grid operator named the event' },
    target: { ...commandRequestSchema.properties.target, description: 'sites by list or by a location box (or one site)' },
    setpointOffset: { type: 'integer', minimum: -5, maximum: 5, not: { const: 0 }, description: 'degrees added to every unit\'s setpoint for the window: +1 or +2 eases cooling load' },
    startsAt: { type: 'string', format: 'date-time', description: 'default now' },
    endsAt: { type: 'string', format: 'date-time', description: 'the setpoints come back then' },
    reason: { type: 'string', minLength: 1, maxLength: 300, description: 'why, e.g. the reserve margin forecast' },
  },
} as const;

export type DemandResponseRequest = FromSchema<typeof demandResponseRequestSchema>;

export function campaignCommand(campaign: DemandResponseRequest): CommandRequest {
  return {
    target: campaign.target,
    setpointOffset: campaign.setpointOffset,
    ...(campaign.startsAt !== undefined && { notBefore: campaign.startsAt }),
    expiresAt: campaign.endsAt,
    restore: true,
    reason: `demand response "${campaign.name}"${campaign.reason === undefined ? '' : `: ${campaign.reason}`}`,
  };
}

/** A command as the cloud keeps it: what was asked, by whom, and where it goes. */
export interface CommandRecord {
  commandId: string;
  author: string;
  reason: string;
  createdAt: string;
  notBefore: string;
  expiresAt: string;
  set: Command['set'];
  setpointOffset?: number;
  restore: boolean;
  targets: Array<{ siteId: string; devices: Command['devices'] }>;
}

export interface PlanLimits {
  maxWindowMinutes: number;
  maxSitesPerCommand: number;
}

/** The record and its messages, or the problem in words (answered 400). */
export function planCommand(request: CommandRequest, sites: readonly Site[], author: string, now: number, limits: PlanLimits): { record: CommandRecord; messages: Command[] } | { problem: string } {
  const set = request.set ?? {};
  if (Object.keys(set).length === 0 && request.setpointOffset === undefined) return { problem: 'the command sets nothing: give set and/or setpointOffset' };
  const notBefore = request.notBefore ?? new Date(now).toISOString();
  const window = (Date.parse(request.expiresAt) - Date.parse(notBefore)) / 60_000;
  if (Date.parse(request.expiresAt) <= now) return { problem: `expiresAt ${request.expiresAt} has passed` };
  if (window <= 0) return { problem: `expiresAt ${request.expiresAt} is not after notBefore ${notBefore}` };
  if (window > limits.maxWindowMinutes) return { problem: `a window of ${Math.ceil(window)} minutes is longer than the ${limits.maxWindowMinutes} allowed (commands.maxWindowMinutes)` };
  const targets = targetsOf(request.target, sites);
  if ('problem' in targets) return targets;
  if (targets.length > limits.maxSitesPerCommand) return { problem: `${targets.length} sites, more than the ${limits.maxSitesPerCommand} one command may reach (commands.maxSitesPerCommand)` };
  const record: CommandRecord = {
    commandId: randomUUID(),
    author,
    reason: request.reason,
    createdAt: new Date(now).toISOString(),
    notBefore,
    expiresAt: request.expiresAt,
    set,
    ...(request.setpointOffset !== undefined && { setpointOffset: request.setpointOffset }),
    restore: request.restore ?? false,
    targets,
  };
  return { record, messages: messagesOf(record) };
}

export function messagesOf(record: CommandRecord): Command[] {
  return record.targets.map(({ siteId, devices }) => ({
    v: COMMAND_SCHEMA_VERSION,
    commandId: record.commandId,
    siteId,
    author: record.author,
    reason: record.reason,
    issuedAt: record.createdAt,
    notBefore: record.notBefore,
    expiresAt: record.expiresAt,
    devices,
    set: record.set,
    ...(record.setpointOffset !== undefined && { setpointOffset: record.setpointOffset }),
    restore: record.restore,
  }));
}

function targetsOf(target: CommandRequest['target'], sites: readonly Site[]): CommandRecord['targets'] | { problem: string } {
  const enabled = new Map(sites.filter((site) => site.enabled).map((site) => [site.id, site]));
  if ('box' in target) {
    const { south, west, north, east } = target.box;
    const inside = sites.filter((site) => site.enabled && site.location !== undefined && within(site.location, { south, west, north, east }));
    if (inside.length === 0) return { problem: 'no enabled site with a location lies in the box' };
    return inside.map((site) => ({ siteId: site.id, devices: 'all' as const }));
  }
  const ids = 'siteIds' in target ? target.siteIds : [target.siteId];
  const unknown = ids.filter((id) => !enabled.has(id));
  if (unknown.length > 0) return { problem: `no enabled site ${unknown.slice(0, 10).join(', ')} in the registry` };
  if ('siteId' in target && target.deviceId !== undefined) return [{ siteId: target.siteId, devices: [target.deviceId] }];
  return ids.map((siteId) => ({ siteId, devices: 'all' as const }));
}

/** A box may cross the antimeridian (west > east). */
function within(location: { latitude: number; longitude: number }, box: { south: number; west: number; north: number; east: number }): boolean {
  if (location.latitude < box.south || location.latitude > box.north) return false;
  return box.west <= box.east ? location.longitude >= box.west && location.longitude <= box.east : location.longitude >= box.west || location.longitude <= box.east;
}
