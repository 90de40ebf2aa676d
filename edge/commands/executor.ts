/**
 * Carries out the cloud's commands at this site: checks each against the contract and the site's
 * policy, runs each command id at most once (ids in the edge database before anything is set),
 * never after its window, sets the units with SetC, reads them back, and at the window's end puts
 * back what the command changed and is still as it left it — on its own clock, with or without
 * the link. Every outcome becomes a result for the cloud (see result-outbox.ts).
 */
import { COMMAND_ID_PATTERN, type Command, type CommandResult, type ResultState, type SettableName, parseCommand } from '../../shared/contract/commands.js';
import type { Logger } from '../../shared/log.js';
import type { PropertyValue } from '../../shared/reading.js';
import type { CommandStore, DeviceChange } from './command-store.js';
import { type CommandPolicy, policyRefusal, setpointRefusal } from './policy.js';

/** What the executor needs of the ECHONET Lite controller (EchonetController satisfies it). */
export interface DevicePort {
  /** Every air conditioner the site knows, for commands to `all`. */
  airconIds(): string[];
  readProperties(deviceId: string, names: readonly string[]): Promise<
    { ok: true; values: Record<string, PropertyValue> } | { ok: false; reason: 'UNKNOWN_DEVICE' | 'UNKNOWN_PROPERTY' | 'NO_ANSWER'; message: string }
  >;
  setProperties(
    deviceId: string,
    values: Readonly<Record<string, PropertyValue>>,
  ): Promise<{ ok: true } | { ok: false; reason: 'UNKNOWN_DEVICE' | 'INVALID_VALUE' | 'REJECTED' | 'NO_ANSWER'; message: string }>;
}

export interface ExecutorOptions {
  siteId: string;
  policy: CommandPolicy;
  store: CommandStore;
  devices: DevicePort;
  /** Takes a result to the cloud (kept until sent). */
  report(result: CommandResult): void;
  log: Logger;
  now?: () => number;
}

export interface ExecutorCounters {
  received: number;
  invalid: number;
  duplicates: number;
  refused: number;
  expired: number;
  executed: number;
  restores: number;
}

const COMMAND_ID = new RegExp(COMMAND_ID_PATTERN);

/** setTimeout takes at most 2^31−1 ms; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type DeviceOutcome = { state: ResultState; reason?: string; values?: Record<string, PropertyValue>; previous?: Record<string, PropertyValue> };

export class CommandExecutor {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private readonly now: () => number;
  private stopped = false;
  readonly counters: ExecutorCounters = { received: 0, invalid: 0, duplicates: 0, refused: 0, expired: 0, executed: 0, restores: 0 };

  constructor(private readonly options: ExecutorOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Picks up where the last run left off: scheduled commands and restores are timed again; a
   * command a crash interrupted mid-way is not run again (at most once), its unfinished units reported failed.
   * Those are the units it was resolved to when it started, as kept: discovery has not run yet, so
   * the units known now may be fewer.
   */
  start(): void {
    const { store } = this.options;
    store.prune(this.now());
    for (const command of store.inState('executing')) {
      const done = new Set(store.devices(command.commandId).map((change) => change.deviceId));
      // A command started under schema 3 kept no units: what is known now is the best left.
      const targets = store.targets(command.commandId) ?? this.targetsOf(command);
      for (const deviceId of targets.filter((id) => !done.has(id))) {
        this.report(command, { state: 'failed', reason: 'the edge restarted while it carried out this command; not tried again (at most once)' }, deviceId);
      }
      this.afterExecution(command);
    }
    for (const command of store.inState('scheduled')) this.at(Date.parse(command.notBefore), () => this.execute(command));
    for (const command of store.inState('restore-pending')) this.at(Date.parse(command.expiresAt), () => this.restore(command));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }

  /** A command message as it came off the link. Never throws: whatever is wrong is logged, counted and, where it can be, reported. */
  offer(payload: Buffer | string): void {
    const parsed = parseCommand(payload);
    if (!parsed.ok) {
      this.counters.invalid += 1;
      this.options.log.warn({ error: parsed.error, bytes: payload.length }, 'command refused: not a valid command message');
      this.reportInvalid(payload, parsed.error);
      return;
    }
    this.accept(parsed.value);
  }

  private accept(command: Command): void {
    const { store, siteId, log } = this.options;
    const now = this.now();
    if (command.siteId !== siteId) {
      this.counters.invalid += 1;
      log.warn({ commandId: command.commandId, for: command.siteId }, 'command for another site ignored');
      return;
    }
    const refusal = policyRefusal(command, this.options.policy);
    const expired = now >= Date.parse(command.expiresAt);
    const state = refusal !== undefined || expired ? 'closed' : now < Date.parse(command.notBefore) ? 'scheduled' : 'executing';
    const targets = state === 'executing' ? this.targetsOf(command) : undefined;
    if (!store.claim(command, state, now, targets)) {
      this.counters.duplicates += 1;
      log.info({ commandId: command.commandId }, 'command received again; it is not carried out twice');
      return;
    }
    this.counters.received += 1;
    log.info({ commandId: command.commandId, author: command.author, reason: command.reason, devices: command.devices, set: command.set, setpointOffset: command.setpointOffset }, 'command received');
    this.report(command, { state: 'received' });
    if (expired) {
      this.counters.expired += 1;
      this.report(command, { state: 'expired', reason: `its window ended at ${command.expiresAt}, before it arrived` });
    } else if (refusal !== undefined) {
      this.counters.refused += 1;
      log.warn({ commandId: command.commandId, refusal }, 'command refused by the site policy');
      this.report(command, { state: 'refused', reason: refusal });
    } else if (state === 'scheduled') {
      this.at(Date.parse(command.notBefore), () => this.execute(command));
    } else if (targets !== undefined) {
      // Executing, on the units claimed with it.
      this.track(this.run(command, targets));
    }
  }

  private async execute(command: Command): Promise<void> {
    if (this.now() >= Date.parse(command.expiresAt)) {
      this.options.store.setState(command.commandId, 'closed');
      this.report(command, { state: 'expired', reason: `its window ended at ${command.expiresAt} before it could start` });
      return;
    }
    const targets = this.targetsOf(command);
    this.options.store.startExecuting(command.commandId, targets);
    await this.run(command, targets);
  }

  private async run(command: Command, targets: readonly string[]): Promise<void> {
    this.counters.executed += 1;
    await Promise.all(targets.map((deviceId) => this.applyTo(command, deviceId)));
    this.afterExecution(command);
  }

  private afterExecution(command: Command): void {
    const changed = this.options.store.devices(command.commandId).some((change) => change.state === 'verified' || change.state === 'applied');
    if (command.restore && changed) {
      this.options.store.setState(command.commandId, 'restore-pending');
      this.at(Date.parse(command.expiresAt), () => this.restore(command));
    } else {
      this.options.store.setState(command.commandId, 'closed');
    }
  }

  private targetsOf(command: Command): string[] {
    return command.devices === 'all' ? this.options.devices.airconIds() : command.devices;
  }

  /** One unit: read what it has, set, read back. Each outcome is kept and reported. */
  private async applyTo(command: Command, deviceId: string): Promise<void> {
    const outcome = await this.setDevice(command, deviceId);
    if (outcome.state !== 'verified' && outcome.state !== 'applied') this.options.store.saveDevice(command.commandId, { deviceId, state: outcome.state, previous: {}, applied: {} });
    this.report(command, outcome, deviceId);
  }

  private async setDevice(command: Command, deviceId: string): Promise<DeviceOutcome> {
    const { devices, store, policy } = this.options;
    const names = namesOf(command);
    const before = await devices.readProperties(deviceId, names);
    if (!before.ok) return before.reason === 'NO_ANSWER' ? { state: 'offline', reason: before.message } : { state: 'refused', reason: before.message };
    const previous = before.values;
    const wanted: Record<string, PropertyValue> = { ...command.set };
    if (command.setpointOffset !== undefined) {
      const current = previous.targetTemperature;
      if (typeof current !== 'number') return { state: 'refused', reason: `no current targetTemperature to offset (the unit reports ${String(current)})`, previous };
      wanted.targetTemperature = current + command.setpointOffset;
      const refusal = setpointRefusal(current + command.setpointOffset, policy);
      if (refusal !== undefined) return { state: 'refused', reason: refusal, previous };
    }
    if (this.now() >= Date.parse(command.expiresAt)) return { state: 'expired', reason: `its window ended at ${command.expiresAt}`, previous };
    const set = await devices.setProperties(deviceId, wanted);
    if (!set.ok) return { state: set.reason === 'NO_ANSWER' ? 'offline' : set.reason === 'REJECTED' ? 'refused' : 'failed', reason: set.message, previous };
    store.saveDevice(command.commandId, { deviceId, state: 'applied', previous, applied: wanted });
    this.report(command, { state: 'applied', previous }, deviceId);
    const after = await devices.readProperties(deviceId, names);
    if (!after.ok) return { state: 'applied', reason: `set, but not read back: ${after.message}`, previous };
    const differing = Object.keys(wanted).filter((name) => after.values[name] !== wanted[name]);
    if (differing.length > 0) {
      store.saveDevice(command.commandId, { deviceId, state: 'failed', previous, applied: wanted });
      return { state: 'failed', reason: `read back differs: ${differing.map((n) => `${n} ${String(after.values[n])} (set ${String(wanted[n])})`).join(', ')}`, values: after.values, previous };
    }
    store.saveDevice(command.commandId, { deviceId, state: 'verified', previous, applied: wanted });
    return { state: 'verified', values: after.values, previous };
  }

  /** At the window's end: each unit gets back what the command changed, unless someone changed it since. */
  private async restore(command: Command): Promise<void> {
    this.counters.restores += 1;
    const changes = this.options.store.devices(command.commandId).filter((change) => change.state === 'verified' || change.state === 'applied');
    await Promise.all(changes.map((change) => this.restoreDevice(command, change)));
    this.options.store.setState(command.commandId, 'closed');
  }

  private async restoreDevice(command: Command, change: DeviceChange): Promise<void> {
    const { devices, store } = this.options;
    const names = Object.keys(change.applied);
    const now = await devices.readProperties(change.deviceId, names);
    const finish = (outcome: DeviceOutcome): void => {
      store.saveDevice(command.commandId, { ...change, state: outcome.state });
      this.report(command, outcome, change.deviceId);
    };
    if (!now.ok) return finish({ state: 'offline', reason: `not restored: ${now.message}` });
    const untouched = names.filter((name) => now.values[name] === change.applied[name] && change.previous[name] !== undefined);
    const changedLocally = names.filter((name) => now.values[name] !== change.applied[name]);
    const localNote = changedLocally.map((n) => `${n} is ${String(now.values[n])}, not the ${String(change.applied[n])} the command set`).join('; ');
    if (untouched.length === 0) return finish({ state: 'restore-skipped', reason: `changed at the site since: ${localNote}`, values: now.values });
    const back = Object.fromEntries(untouched.map((name) => [name, change.previous[name] as PropertyValue]));
    const set = await devices.setProperties(change.deviceId, back);
    if (!set.ok) return finish({ state: set.reason === 'NO_ANSWER' ? 'offline' : 'failed', reason: `not restored: ${set.message}` });
    const after = await devices.readProperties(change.deviceId, names);
    const values = after.ok ? after.values : back;
    return finish(changedLocally.length === 0 ? { state: 'restored', values } : { state: 'restored', reason: `left as changed at the site: ${localNote}`, values });
  }

  private report(command: Command, outcome: DeviceOutcome, deviceId?: string): void {
    const result: CommandResult = {
      v: 1,
      commandId: command.commandId,
      siteId: this.options.siteId,
      ...(deviceId !== undefined && { deviceId }),
      state: outcome.state,
      ...(outcome.reason !== undefined && { reason: outcome.reason.slice(0, 500) }),
      at: new Date(this.now()).toISOString(),
      ...(outcome.values !== undefined && { values: outcome.values }),
      ...(outcome.previous !== undefined && { previous: outcome.previous }),
    };
    this.options.report(result);
  }

  /** An invalid message that still names a command id of this site gets a refusal back, so the cloud hears why. */
  private reportInvalid(payload: Buffer | string, error: string): void {
    let json: unknown;
    try {
      json = JSON.parse(payload.toString());
    } catch {
      return;
    }
    const { commandId, siteId } = (json ?? {}) as { commandId?: unknown; siteId?: unknown };
    if (typeof commandId !== 'string' || !COMMAND_ID.test(commandId) || siteId !== this.options.siteId) return;
    this.options.report({ v: 1, commandId, siteId, state: 'refused', reason: `not a valid command: ${error}`.slice(0, 500), at: new Date(this.now()).toISOString() });
  }

  private at(when: number, work: () => Promise<void>): void {
    if (this.stopped) return;
    const delay = Math.max(0, when - this.now());
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (delay > MAX_TIMER_MS) this.at(when, work);
      else this.track(work());
    }, Math.min(delay, MAX_TIMER_MS));
    this.timers.add(timer);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((err: unknown) => this.options.log.error({ err }, 'command execution failed unexpectedly'));
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }
}

function namesOf(command: Command): SettableName[] {
  const names = Object.keys(command.set) as SettableName[];
  if (command.setpointOffset !== undefined && !names.includes('targetTemperature')) names.push('targetTemperature');
  return names;
}
