/**
 * The addresses the edge binds (echonet.interface, api.host) must be addresses of this host. At boot
 * one may simply not be there yet (DHCP, a link still coming up): then binding would fail with
 * EADDRNOTAVAIL, exit 1, and systemd would restart the edge in a loop. So `--check-config` says when
 * an address is not on this host, and the running edge starts the part that binds it only once it
 * appears, saying meanwhile (not ready, the status, a log line a minute) what it waits for.
 */
import { networkInterfaces } from 'node:os';
import type { Component } from '../shared/lifecycle.js';
import type { Logger } from '../shared/log.js';

/** Addresses that are always there: the unspecified address (every interface) and the name for loopback. */
const ALWAYS_PRESENT = new Set(['0.0.0.0', '::', 'localhost']);

/** This host's addresses now; undefined when they cannot be listed (then nobody can tell, and binding will say). */
export function hostAddresses(): string[] | undefined {
  try {
    return Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address));
  } catch {
    return undefined;
  }
}

/** Whether `address` is one of `addresses` (or needs no interface of its own); an unknown list counts as yes. */
export function isHostAddress(address: string, addresses: readonly string[] | undefined): boolean {
  const bare = address.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return addresses === undefined || ALWAYS_PRESENT.has(bare) || addresses.some((own) => own.toLowerCase() === bare);
}

/** One address the edge binds, named by its setting. */
export interface BoundAddress {
  /** The setting, e.g. `echonet.interface`. */
  readonly field: string;
  /** Its environment variable, so the fix can be made where the value came from. */
  readonly variable: string;
  readonly address: string;
  /** What binds it, e.g. `the ECHONET Lite transport`. */
  readonly binder: string;
}

/** For `--check-config`: each bound address that is not on this host, with its field and the fix. */
export function addressProblems(bound: readonly BoundAddress[], addresses: readonly string[] | undefined = hostAddresses()): string[] {
  const own = (addresses ?? []).join(', ') || 'none';
  return bound
    .filter(({ address }) => !isHostAddress(address, addresses))
    .map(
      ({ field, variable, address, binder }) =>
        `${field}: ${address} is not an address of this host (its addresses: ${own}); set ${field} (${variable}) to this gateway's own address ` +
        `(\`ip addr\` shows them). If the address comes later (DHCP), the edge starts anyway and binds ${binder} once it appears`,
    );
}

export interface AddressGateOptions {
  readonly bound: BoundAddress;
  /** The part that binds the address, started once the address is there. */
  readonly part: Component;
  /** Called when the part fails to start after the wait (start-up itself had already finished then). */
  readonly onFailure: (err: Error) => void;
  readonly log: Logger;
  /** How often the host's addresses are looked at while waiting. */
  readonly checkEveryMs?: number;
  /** How often the wait is logged (once at once, then this often). */
  readonly logEveryMs?: number;
  /** False when another gate already logs the wait for the same address (one line a minute, not two). */
  readonly logWait?: boolean;
  /** This host's addresses; `hostAddresses` unless a test says otherwise. */
  readonly addresses?: () => readonly string[] | undefined;
}

const CHECK_EVERY_MS = 1_000;
const LOG_EVERY_MS = 60_000;

/**
 * A component that starts `part` at once when its address is on this host, or else returns at once
 * (the rest of the edge starts) and starts `part` when the address appears.
 */
export class AddressGate implements Component {
  readonly name: string;
  private readonly addresses: () => readonly string[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waitingSince: number | undefined;
  private lastLoggedAt = 0;
  private starting: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: AddressGateOptions) {
    this.name = options.part.name;
    this.addresses = options.addresses ?? hostAddresses;
  }

  /** What it waits for, in words for the status page and /readyz; undefined once the part started. */
  waitingFor(): string | undefined {
    if (this.waitingSince === undefined) return undefined;
    const { field, address, binder } = this.options.bound;
    const seconds = Math.round((Date.now() - this.waitingSince) / 1000);
    return `${field} ${address} is not an address of this host yet: ${binder} binds it once it appears (waiting ${seconds} s)`;
  }

  async start(): Promise<void> {
    if (this.present()) {
      await this.startPart();
      return;
    }
    this.waitingSince = Date.now();
    this.logWaiting();
    this.timer = setInterval(() => this.check(), this.options.checkEveryMs ?? CHECK_EVERY_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (this.starting === undefined) return;
    // A part still binding is stopped once it is up; one that failed to start has nothing to stop.
    const started = await this.starting.then(
      () => true,
      () => false,
    );
    if (started) await this.options.part.stop();
  }

  private present(): boolean {
    return isHostAddress(this.options.bound.address, this.addresses());
  }

  private check(): void {
    if (this.stopped || this.starting !== undefined) return;
    if (!this.present()) {
      if (Date.now() - this.lastLoggedAt >= (this.options.logEveryMs ?? LOG_EVERY_MS)) this.logWaiting();
      return;
    }
    clearInterval(this.timer);
    const { field, address } = this.options.bound;
    const waitedSeconds = Math.round((Date.now() - (this.waitingSince ?? Date.now())) / 1000);
    this.options.log.info({ field, address, waitedSeconds }, `${field} ${address} appeared on this host; binding`);
    this.startPart().then(
      () => (this.waitingSince = undefined),
      (err: unknown) => this.options.onFailure(err instanceof Error ? err : new Error(String(err))),
    );
  }

  private startPart(): Promise<void> {
    this.starting = Promise.resolve(this.options.part.start());
    return this.starting;
  }

  private logWaiting(): void {
    this.lastLoggedAt = Date.now();
    if (this.options.logWait === false) return;
    const { field, address, binder } = this.options.bound;
    const waitedSeconds = Math.round((Date.now() - (this.waitingSince ?? Date.now())) / 1000);
    this.options.log.warn(
      { field, address, waitedSeconds },
      `waiting for ${field} ${address} to appear on this host before ${binder} binds it (not ready until then); if it never comes, set ${field} to this gateway's own address`,
    );
  }
}
