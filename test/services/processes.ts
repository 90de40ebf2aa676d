// Child processes of the test-services harness: one-shot install commands, long-running services in
// their own process group (stopped by -pgid: SIGTERM, then SIGKILL), free loopback ports, readiness waits.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';

/** Last `lines` lines of a text, for error messages. */
export function tailText(text: string, lines = 30): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Last lines of a log file, or a note that it cannot be read. */
export function tailFile(path: string, lines = 30): string {
  try {
    return tailText(readFileSync(path, 'utf8'), lines);
  } catch (err) {
    return `(cannot read ${path}: ${(err as Error).message})`;
  }
}

export interface CommandResult {
  code: number;
  output: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * Run a command to completion, stdout+stderr captured together. Never throws for a non-zero exit; a
 * missing executable (ENOENT) or a timeout yields code 127 / 124 with an explanation in `output`.
 */
export function runCommand(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            output += `\n(timed out after ${opts.timeoutMs} ms, killed)`;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > 1_000_000) output = output.slice(-500_000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ code: err.code === 'ENOENT' ? 127 : 1, output: `${output}\n${cmd}: ${err.message}` });
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' && opts.timeoutMs !== undefined ? 124 : 128), output });
    });
  });
}

/** Ask the OS for `count` distinct free TCP ports on 127.0.0.1 (all held open at once, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const addr = server.address();
      if (addr === null || typeof addr === 'string') throw new Error('could not read the port of a listening socket');
      ports.push(addr.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** True when a TCP connection to 127.0.0.1:port succeeds. */
export function canConnect(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process with this PID exists (EPERM: it does, and belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A long-running service process: the leader of its own process group, output in `logFile`. */
export class ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;

  private constructor(name: string, child: ChildProcess, logFile: string) {
    if (child.pid === undefined) throw new Error(`${name}: spawn returned no pid`);
    this.name = name;
    this.child = child;
    this.pid = child.pid;
    this.logFile = logFile;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /**
   * Spawn `cmd` detached (new process group whose id is its pid) with stdout+stderr appended to
   * `logFile`. The child is unref'd: a process that forgets stop() still exits, and the exit hook
   * below sends SIGTERM to the group.
   */
  static async start(
    name: string,
    cmd: string,
    args: readonly string[],
    opts: { cwd: string; logFile: string; env?: NodeJS.ProcessEnv },
  ): Promise<ServiceProcess> {
    const fd = openSync(opts.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => reject(new Error(`${name}: cannot start ${cmd}: ${err.message}`)));
    });
    child.unref();
    const proc = new ServiceProcess(name, child, opts.logFile);
    running.add(proc);
    installExitHook();
    void proc.exited.then(() => running.delete(proc));
    return proc;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** How the process ended, for messages. */
  describeExit(): string {
    if (this.child.signalCode !== null) return `killed by ${this.child.signalCode}`;
    if (this.child.exitCode !== null) return `exited with code ${this.child.exitCode}`;
    return 'still running';
  }

  /** Send a signal to the whole process group; ignores a group that is already gone. */
  signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** SIGTERM to the group, wait up to `graceMs`, then SIGKILL and wait for the exit. Idempotent. */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.alive) return;
      this.signalGroup('SIGTERM');
      const graceful = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!graceful) {
        process.stderr.write(`[services] ${this.name} (pid ${this.pid}) ignored SIGTERM for ${graceMs} ms; SIGKILL\n`);
        this.signalGroup('SIGKILL');
        await Promise.race([this.exited, sleep(5_000)]);
      }
    })();
    return this.stopping;
  }

  /** Resolves when the process has exited. */
  waitExit(): Promise<void> {
    return this.exited;
  }
}

const running = new Set<ServiceProcess>();
let exitHookInstalled = false;

/** Best effort on a plain process exit: whatever is still running gets SIGTERM (synchronously). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const proc of running) proc.signalGroup('SIGTERM');
  });
}

/** Stop every service process this harness started and that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** SIGKILL every service process group still running (for a second Ctrl-C). */
export function killAllProcesses(): void {
  for (const proc of running) proc.signalGroup('SIGKILL');
}

/**
 * Poll `check` until it returns true. Fails early if `proc` dies, or after `timeoutMs`, with the
 * last lines of the process's log and of the last check error.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; proc?: ServiceProcess },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = '';
  for (;;) {
    if (opts.proc && !opts.proc.alive) {
      throw new Error(
        `${what}: the process ${opts.proc.describeExit()} before it was ready.\n` +
          `Last lines of ${opts.proc.logFile}:\n${tailFile(opts.proc.logFile)}`,
      );
    }
    try {
      if (await check()) return;
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() > deadline) {
      const log = opts.proc ? `\nLast lines of ${opts.proc.logFile}:\n${tailFile(opts.proc.logFile)}` : '';
      throw new Error(
        `${what}: not ready after ${opts.timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}.${log}`,
      );
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** True when a service log says its port was taken between our port probe and its bind. */
export function portWasTaken(logFile: string): boolean {
  return /address already in use|BindException|EADDRINUSE/i.test(tailFile(logFile, 200));
}
