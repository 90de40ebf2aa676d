/**
 * The state of every recent command at every target, built from the audit events alone (so any
 * instance that reads the audit topic knows the same, and a restart loses nothing). Applying an
 * event twice changes nothing: the audit topic may hold a result twice (a site resent it).
 */
import type { CommandResult, TargetState } from '../../shared/contract/commands.js';
import type { PropertyValue } from '../../shared/reading.js';
import type { CommandRecord } from './request.js';

/** What the audit topic holds, keyed by command id. */
export type AuditEvent =
  | { type: 'created'; at: string; command: CommandRecord }
  | { type: 'published'; at: string; commandId: string; siteId: string }
  | { type: 'result'; at: string; result: CommandResult };

export interface DeviceView {
  deviceId: string;
  state: TargetState;
  reason?: string;
  at: string;
  values?: Record<string, PropertyValue>;
  previous?: Record<string, PropertyValue>;
}

export interface SiteView {
  siteId: string;
  /** pending (not yet received by the site), delivered (received), the site's refusal or expiry, or expired unsent. */
  state: TargetState;
  reason?: string;
  publishedAt?: string;
  devices: DeviceView[];
}

export interface CommandView {
  command: CommandRecord;
  targets: SiteView[];
}

/**
 * Later outcomes outrank earlier ones, so a result that arrives late (a resend) does not turn a
 * unit back: applied < verified or a failure < restored or restore-skipped.
 */
const RANK: Record<string, number> = { applied: 1, verified: 2, refused: 2, expired: 2, offline: 2, failed: 2, restored: 3, 'restore-skipped': 3 };

const NOT_DELIVERED = 'not delivered before expiresAt';
const NO_RESULT = 'no result from the site before expiresAt';

interface SiteEntry {
  state: TargetState;
  reason?: string;
  publishedAt?: string;
  devices: Map<string, DeviceView>;
}

interface Entry {
  command: CommandRecord;
  sites: Map<string, SiteEntry>;
  seen: Set<string>;
}

export class CommandLedger {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly keep: number) {}

  /** Whether this result would change nothing (already applied, or for no known target). */
  knows(result: CommandResult): boolean {
    const entry = this.entries.get(result.commandId);
    return entry === undefined || !entry.sites.has(result.siteId) || entry.seen.has(resultKey(result));
  }

  /** Whether a site is a target of a known command (results from other sites are forgeries or strays). */
  targets(commandId: string, siteId: string): boolean {
    return this.entries.get(commandId)?.sites.has(siteId) ?? false;
  }

  apply(event: AuditEvent): void {
    if (event.type === 'created') return this.create(event.command);
    const commandId = event.type === 'published' ? event.commandId : event.result.commandId;
    const entry = this.entries.get(commandId);
    if (entry === undefined) return;
    if (event.type === 'published') {
      const site = entry.sites.get(event.siteId);
      if (site !== undefined) site.publishedAt ??= event.at;
      return;
    }
    const { result } = event;
    const site = entry.sites.get(result.siteId);
    if (site === undefined || entry.seen.has(resultKey(result))) return;
    entry.seen.add(resultKey(result));
    if (result.deviceId === undefined) {
      if (result.state === 'received') {
        if (site.state === 'pending') site.state = 'delivered';
      } else {
        site.state = result.state;
        if (result.reason !== undefined) site.reason = result.reason;
      }
      return;
    }
    if (site.state === 'pending') site.state = 'delivered';
    const known = site.devices.get(result.deviceId);
    if (known !== undefined && (RANK[known.state] ?? 0) > (RANK[result.state] ?? 0)) return;
    site.devices.set(result.deviceId, {
      deviceId: result.deviceId,
      state: result.state,
      ...(result.reason !== undefined && { reason: result.reason }),
      at: result.at,
      ...(result.values !== undefined && { values: result.values }),
      ...(result.previous !== undefined && { previous: result.previous }),
    });
  }

  /**
   * The command as of `now`: a site or listed device still waiting when the window has closed is
   * shown expired, since the edge will refuse the command then (it is never carried out late).
   */
  view(commandId: string, now = Date.now()): CommandView | undefined {
    const entry = this.entries.get(commandId);
    if (entry === undefined) return undefined;
    const { command } = entry;
    const closed = now >= Date.parse(command.expiresAt);
    return {
      command,
      targets: command.targets.flatMap(({ siteId, devices }) => {
        const site = entry.sites.get(siteId);
        if (site === undefined) return [];
        const unsent = closed && site.state === 'pending';
        const state: TargetState = unsent ? 'expired' : site.state;
        const reason = unsent ? NOT_DELIVERED : site.reason;
        return [{
          siteId,
          state,
          ...(reason !== undefined && { reason }),
          ...(site.publishedAt !== undefined && { publishedAt: site.publishedAt }),
          devices: [...site.devices.values(), ...waitingDevices(command, devices, site, closed)],
        }];
      }),
    };
  }

  private create(command: CommandRecord): void {
    if (this.entries.has(command.commandId)) return;
    const sites: Entry['sites'] = new Map(command.targets.map(({ siteId }) => [siteId, { state: 'pending', devices: new Map() }]));
    this.entries.set(command.commandId, { command, sites, seen: new Set() });
    // Oldest out first: a Map iterates in insertion order.
    while (this.entries.size > this.keep) this.entries.delete(this.entries.keys().next().value ?? "");
  }
}

/**
 * The listed devices with no result yet (a site's `all` is only known from its results): pending
 * while the site may still act, expired once the window has closed.
 */
function waitingDevices(command: CommandRecord, devices: CommandRecord['targets'][number]['devices'], site: SiteEntry, closed: boolean): DeviceView[] {
  if (devices === 'all' || (site.state !== 'pending' && site.state !== 'delivered')) return [];
  return devices
    .filter((deviceId) => !site.devices.has(deviceId))
    .map((deviceId): DeviceView =>
      closed
        ? { deviceId, state: 'expired', reason: site.state === 'pending' ? NOT_DELIVERED : NO_RESULT, at: command.expiresAt }
        : { deviceId, state: 'pending', at: command.createdAt },
    );
}

function resultKey(result: CommandResult): string {
  return `${result.siteId}\0${result.deviceId ?? ''}\0${result.state}`;
}
