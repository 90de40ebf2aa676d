/**
 * Network namespaces for tests that need a real multicast LAN: a hub namespace holding a Linux
 * bridge, and one namespace per host joined to the bridge by a veth pair.
 *
 *   elns-<pid>-<n>-hub    br0 (no address, IGMP snooping off) ── p0 ── p1 ── …
 *                                                               │      │
 *   elns-<pid>-<n>-<host>                               eth0 10.213.X.10  eth0 10.213.X.11 …
 *                                                       lo up, 224.0.0.0/4 dev eth0
 *
 * Network rule: every link is created inside our own namespaces (`ip -n NS link add … peer … netns
 * HUB`), so the root namespace never holds an interface or an address of the test subnet, no
 * namespace has a default route or a link to a real interface, and forwarding stays off (new
 * namespaces start with it off; a bridge forwards frames without it). IPv6 is switched off in our
 * namespaces, so the only traffic is what the test's own processes send.
 *
 * Names carry the creating process's PID: a later run deletes namespaces whose creator is gone
 * (a run killed before its cleanup), never those of a test file running in parallel.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stopChild } from './wait.js';

const run = promisify(execFile);

/** The repository root: runners start there, so `--import tsx` and relative paths resolve. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const PREFIX = 'elns';
const STALE_NAME = /^elns-(\d+)-\d+-[a-z0-9]+$/;
const HOST_NAME = /^[a-z][a-z0-9]{0,7}$/;
/** Host addresses start here: 10.213.X.10, .11, … */
const FIRST_HOST_OCTET = 10;
const MAX_HOSTS = 200;

const DISABLE_IPV6 =
  '[ -d /proc/sys/net/ipv6 ] || exit 0; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6 && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6';

let topologiesCreated = 0;

// ---------------------------------------------------------------------------------------------
// Prerequisites and stale namespaces

/**
 * Throws (never skips) when this process cannot build namespaces: not root, or no `ip` (iproute2).
 * Tests call it first, so a missing capability fails the test with a message saying what is missing.
 */
export function assertNetnsPrerequisites(): void {
  const missing: string[] = [];
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (uid !== 0) {
    missing.push(`root (uid is ${uid ?? 'unknown'}): creating network namespaces, veth pairs and a bridge needs CAP_NET_ADMIN and CAP_SYS_ADMIN; run as root (CI does)`);
  }
  const ip = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (ip.error !== undefined || ip.status !== 0) {
    missing.push(`the \`ip\` command (iproute2): ${ip.error?.message ?? ip.stderr.trim()}; install it with \`apt-get install iproute2\``);
  }
  if (missing.length > 0) {
    throw new Error(`ECHONET Lite namespace tests cannot run, missing:\n  - ${missing.join('\n  - ')}`);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ip(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { encoding: 'utf8' });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`ip ${args.join(' ')} failed: ${stderr || (error as Error).message}`);
  }
}

async function namespaceNames(): Promise<string[]> {
  // `ip netns list` prints "name" or "name (id: N)".
  return (await ip('netns', 'list'))
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

async function pidsIn(namespace: string): Promise<number[]> {
  const out = await ip('netns', 'pids', namespace).catch(() => '');
  return out
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}

/** Kills what still runs in one of our namespaces (processes our tests started), then deletes it. */
async function removeNamespace(namespace: string): Promise<void> {
  for (const pid of await pidsIn(namespace)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await ip('netns', 'delete', namespace).catch(async (error: unknown) => {
    if ((await namespaceNames()).includes(namespace)) throw error;
  });
}

/**
 * Best effort: deletes namespaces of ours whose creating process no longer runs (a run that was
 * killed before its cleanup). Returns their names.
 */
export async function removeStaleNamespaces(): Promise<string[]> {
  const stale = (await namespaceNames()).filter((name) => {
    const match = STALE_NAME.exec(name);
    return match !== null && Number(match[1]) !== process.pid && !processAlive(Number(match[1]));
  });
  // Hosts first: deleting a host namespace removes its veth pair, then the hub goes with its bridge.
  stale.sort((a, b) => Number(a.endsWith('-hub')) - Number(b.endsWith('-hub')));
  for (const name of stale) await removeNamespace(name).catch(() => undefined);
  return stale;
}

// ---------------------------------------------------------------------------------------------
// Processes inside a host

/** A line a process printed on stdout: parsed JSON, or `{ text }` for a line that was not JSON. */
export type OutputLine = Record<string, unknown>;

/**
 * A process running inside a host namespace. `ip netns exec NS prog` execs `prog`, so `child.pid`
 * is the program's own PID: signals go to it, not to a wrapper.
 */
export class HostProcess {
  /** Every stdout line, in order. */
  readonly lines: OutputLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly waiters = new Set<() => void>();
  private pending = '';

  constructor(
    readonly host: string,
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.pending += chunk;
      const lines = this.pending.split('\n');
      this.pending = lines.pop() ?? '';
      for (const line of lines) this.record(line);
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk);
      if (this.stderr.length > 200) this.stderr.splice(0, this.stderr.length - 200);
    });
    // Writes after the process died must not crash the test with EPIPE.
    child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.wake();
        resolve({ code, signal });
      });
      child.once('error', (error) => {
        this.stderr.push(String(error));
        this.wake();
        resolve({ code: null, signal: null });
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Waits until `probe` (given every line so far) returns something other than undefined, and
   * returns that; fails if the process exits first or `timeoutMs` passes.
   */
  async waitFor<T>(probe: (lines: readonly OutputLine[]) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe(this.lines);
      if (found !== undefined) return found;
      if (!this.running) throw new Error(`${this.label} exited (code ${this.child.exitCode}, signal ${this.child.signalCode}) before ${what}\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Lines (seen already or still to come) matching `match`, once there are `count` of them. */
  waitForLines(match: (line: OutputLine) => boolean, count: number, timeoutMs: number, what: string): Promise<OutputLine[]> {
    return this.waitFor(
      (lines) => {
        const found = lines.filter(match);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
      `${what} (${count} wanted)`,
    );
  }

  async waitForLine(match: (line: OutputLine) => boolean, timeoutMs: number, what: string): Promise<OutputLine> {
    const [line] = await this.waitForLines(match, 1, timeoutMs, what);
    return line as OutputLine;
  }

  /** Writes one JSON line to the process's stdin (runners take commands this way). */
  send(command: Record<string, unknown>): void {
    if (!this.running) throw new Error(`${this.label} is not running`);
    this.child.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  /** Signals this process by its own PID, escalating to SIGKILL; resolves once it exited. */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return stopChild(this.child, this.exited, signal, timeoutMs);
  }

  /** The last lines of output, for failure messages. */
  tail(count = 25): string {
    const out = this.lines.slice(-count).map((line) => JSON.stringify(line));
    const err = this.stderr.join('').split('\n').slice(-10).join('\n');
    return `--- ${this.label} stdout (last ${out.length}) ---\n${out.join('\n')}\n--- ${this.label} stderr ---\n${err}`;
  }

  private record(line: string): void {
    if (line.trim() === '') return;
    try {
      const parsed: unknown = JSON.parse(line);
      this.lines.push(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as OutputLine) : { value: parsed });
    } catch {
      this.lines.push({ text: line });
    }
    this.wake();
  }

  private wake(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

// ---------------------------------------------------------------------------------------------
// The topology

export interface NetnsHost {
  /** The test's name for it, e.g. `ctl`, `s1`. */
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
  /** Interface name inside the host namespace. */
  readonly device: string;
}

export interface ExecOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Shown in failure messages; defaults to the host name. */
  readonly label?: string;
}

export class NetnsTopology {
  private readonly processes: HostProcess[] = [];
  private destroyed = false;
  private readonly onExit = (): void => this.destroySync();

  private constructor(
    readonly id: string,
    readonly subnet: string,
    readonly hub: string,
    readonly hosts: ReadonlyMap<string, NetnsHost>,
  ) {
    process.once('exit', this.onExit);
  }

  /**
   * Builds the hub and one namespace per host name. On any failure, removes what it had made and
   * throws. Host names: lowercase letters and digits, at most 8 characters.
   */
  static async create(hostNames: readonly string[]): Promise<NetnsTopology> {
    assertNetnsPrerequisites();
    await removeStaleNamespaces();
    if (hostNames.length === 0 || hostNames.length > MAX_HOSTS) throw new RangeError(`between 1 and ${MAX_HOSTS} hosts, got ${hostNames.length}`);
    if (new Set(hostNames).size !== hostNames.length) throw new RangeError(`host names must be unique: ${hostNames.join(', ')}`);
    for (const name of hostNames) if (!HOST_NAME.test(name)) throw new RangeError(`host name ${name} must match ${HOST_NAME}`);

    const sequence = topologiesCreated++;
    const id = `${PREFIX}-${process.pid}-${sequence}`;
    // One /24 per topology, varied by PID and sequence. Each topology is its own isolated L2 segment
    // anyway; the variation only keeps parallel runs' addresses apart in logs and captures.
    const x = (process.pid * 7 + sequence) % 256;
    const subnet = `10.213.${x}.0/24`;
    const hub = `${id}-hub`;
    const hosts = new Map<string, NetnsHost>(
      hostNames.map((name, i) => [name, { name, namespace: `${id}-${name}`, address: `10.213.${x}.${FIRST_HOST_OCTET + i}`, device: 'eth0' }]),
    );
    const topology = new NetnsTopology(id, subnet, hub, hosts);
    try {
      await topology.build();
    } catch (error) {
      await topology.destroy().catch(() => undefined);
      throw error;
    }
    return topology;
  }

  private async build(): Promise<void> {
    await ip('netns', 'add', this.hub);
    await this.isolate(this.hub);
    await ip('-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0');
    await ip('-n', this.hub, 'link', 'set', 'br0', 'up');
    await Promise.all([...this.hosts.values()].map((host, index) => this.buildHost(host, `p${index}`)));
    await this.waitUntilUp();
  }

  /** lo up, IPv6 off (no router solicitations, MLD or DAD from our links). */
  private async isolate(namespace: string): Promise<void> {
    await ip('-n', namespace, 'link', 'set', 'lo', 'up');
    // /proc/sys/net belongs to the namespace of whoever opens it, so write it from inside.
    await ip('netns', 'exec', namespace, 'sh', '-c', DISABLE_IPV6);
  }

  private async buildHost(host: NetnsHost, port: string): Promise<void> {
    await ip('netns', 'add', host.namespace);
    await this.isolate(host.namespace);
    // Both ends are born in our namespaces; the root namespace never sees them.
    await ip('-n', host.namespace, 'link', 'add', host.device, 'type', 'veth', 'peer', 'name', port, 'netns', this.hub);
    await ip('-n', this.hub, 'link', 'set', port, 'master', 'br0');
    await ip('-n', this.hub, 'link', 'set', port, 'up');
    await ip('-n', host.namespace, 'address', 'add', `${host.address}/24`, 'dev', host.device);
    await ip('-n', host.namespace, 'link', 'set', host.device, 'up');
    // Multicast (224.0.23.0 for ECHONET Lite) leaves by eth0; there is no default route at all.
    await ip('-n', host.namespace, 'route', 'add', '224.0.0.0/4', 'dev', host.device);
  }

  private async waitUntilUp(): Promise<void> {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const states = await Promise.all(
        [...this.hosts.values()].map(async (host) => {
          const links = JSON.parse(await ip('-n', host.namespace, '-j', 'link', 'show', 'dev', host.device)) as Array<{ operstate?: string }>;
          return links[0]?.operstate === 'UP';
        }),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline) throw new Error(`veth links of ${this.id} did not come up`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  host(name: string): NetnsHost {
    const host = this.hosts.get(name);
    if (host === undefined) throw new Error(`no host ${name} in ${this.id}`);
    return host;
  }

  address(name: string): string {
    return this.host(name).address;
  }

  /**
   * Starts `args` inside the host's namespace (`ip netns exec NS args…`, which execs, so the PID
   * is the program's) with stdin, stdout and stderr piped; stdout JSON lines are collected.
   */
  exec(hostName: string, args: readonly string[], options: ExecOptions = {}): HostProcess {
    if (this.destroyed) throw new Error(`${this.id} is destroyed`);
    if (args.length === 0) throw new Error('nothing to run');
    const host = this.host(hostName);
    const child = spawn('ip', ['netns', 'exec', host.namespace, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const proc = new HostProcess(host.name, options.label ?? host.name, child);
    this.processes.push(proc);
    return proc;
  }

  /** `node --import tsx script args…` inside the host, from the repository root. */
  node(hostName: string, script: string, args: readonly string[], options: ExecOptions = {}): HostProcess {
    return this.exec(hostName, [process.execPath, '--import', 'tsx', script, ...args], options);
  }

  /**
   * Stops every process started here (SIGTERM, then SIGKILL), kills anything left inside our
   * namespaces, deletes the hosts (their veth pairs go with them), then the hub and its bridge.
   * Safe to call twice. Throws if something could not be removed.
   */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    process.removeListener('exit', this.onExit);
    await Promise.all(this.processes.map((p) => p.stop('SIGTERM', 3_000)));
    const errors: string[] = [];
    const namespaces = [...[...this.hosts.values()].map((h) => h.namespace), this.hub];
    const existing = new Set(await namespaceNames());
    for (const namespace of namespaces) {
      if (!existing.has(namespace)) continue;
      const leftovers = await pidsIn(namespace);
      if (leftovers.length > 0) errors.push(`processes still running in ${namespace}: ${leftovers.join(', ')} (killed)`);
      await removeNamespace(namespace).catch((error: unknown) => errors.push(String(error)));
    }
    const remaining = (await namespaceNames()).filter((name) => name.startsWith(`${this.id}-`));
    if (remaining.length > 0) errors.push(`namespaces not removed: ${remaining.join(', ')}`);
    if (errors.length > 0) throw new Error(`cleanup of ${this.id}: ${errors.join('; ')}`);
  }

  /** Last resort when the test process exits without `destroy()`: kill by PID, delete namespaces. */
  private destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const proc of this.processes) {
      if (proc.running && proc.pid !== undefined) {
        try {
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    for (const namespace of [...[...this.hosts.values()].map((h) => h.namespace), this.hub]) {
      spawnSync('ip', ['netns', 'delete', namespace], { stdio: 'ignore' });
    }
  }
}
