/**
 * Shared pieces of the ECHONET Lite benchmarks (bench/echonet-*.bench.ts): the simulated air
 * conditioners in a process of their own (the `echolake-sim` CLI), a free port and command-line
 * flags. Statistics and tables are in report.ts, the machine line in proc.ts.
 *
 * Network rule: the simulator binds 127.0.x.y addresses and multicasts via 127.0.0.1 only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type EdgeConfig, loadEdgeConfig } from '../../edge/config.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const INTERFACE = '127.0.0.1';

/** The edge's ECHONET Lite settings where a site sets nothing (edge/config.ts), e.g. poll every 30 s, search every 300 s. */
export function edgeEchonetDefaults(): EdgeConfig['echonet'] {
  const required = { ECHOLAKE_EDGE_SITE_ID: 'bench', ECHOLAKE_EDGE_ECHONET__INTERFACE: INTERFACE, ECHOLAKE_EDGE_UPLINK__URL: 'mqtt://127.0.0.1:1883' };
  return loadEdgeConfig(undefined, required).echonet;
}

// ---------------------------------------------------------------------------------------------
// Command line: `--name value` flags, with an environment fallback so `npm run bench` can pass them.

export function numberFlag(name: string, fallback: number): number {
  const argv = process.argv.slice(2);
  const at = argv.indexOf(`--${name}`);
  const env = process.env[`ECHOLAKE_BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  const raw = at >= 0 ? argv[at + 1] : env;
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got ${raw}`);
  return value;
}

export function stringFlag(name: string, fallback: string): string {
  const argv = process.argv.slice(2);
  const at = argv.indexOf(`--${name}`);
  const env = process.env[`ECHOLAKE_BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
  return (at >= 0 ? argv[at + 1] : env) ?? fallback;
}

// ---------------------------------------------------------------------------------------------
// Ports

/** A random port in 20000–39999 that 127.0.0.1 can bind now (the controller binds it without reuse). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind({ address: INTERFACE, port }, () => resolve(true));
    });
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    if (ok) return port;
  }
  throw new Error('no free UDP port found on 127.0.0.1');
}

// ---------------------------------------------------------------------------------------------
// The simulator in its own process

export interface SimNode {
  readonly index: number;
  readonly address: string;
  readonly nodeId: string | null;
  /** The air conditioner's device id, as a controller should give it. */
  readonly deviceId: string;
  /** Every device object of the node. */
  readonly devices: readonly string[];
}

export interface SimProcess {
  readonly pid: number;
  readonly port: number;
  readonly nodes: readonly SimNode[];
  /** Log lines at warn level or above since start. */
  warnings(): number;
  /** CPU time of the simulator process so far (utime + stime from /proc), ms; undefined off Linux. */
  cpuMs(): Promise<number | undefined>;
  stop(): Promise<void>;
}

export interface SimOptions {
  readonly nodes: number;
  readonly baseAddress: string;
  readonly tickMs?: number;
  /** More `echolake-sim` flags. */
  readonly extraArgs?: readonly string[];
}

class SimStartError extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }, 5_000);
  await exited;
  clearTimeout(timer);
}

/** Live children, stopped by pid if the benchmark exits early. */
const children = new Set<ChildProcess>();
let guarding = false;

/** Kills the child (by its pid) should this process exit or be interrupted before stopping it. */
export function trackChild(child: ChildProcess): void {
  if (!guarding) {
    guarding = true;
    process.once('exit', () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
}

async function procCpuMs(pid: number): Promise<number | undefined> {
  try {
    const { readFile } = await import('node:fs/promises');
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

function spawnSimulatorOnce(options: SimOptions, port: number): Promise<SimProcess> {
  const args = [
    '--import',
    'tsx',
    'edge/simulator/main.ts',
    '--nodes',
    String(options.nodes),
    '--base-address',
    options.baseAddress,
    '--interface',
    INTERFACE,
    '--port',
    String(port),
    '--tick-ms',
    String(options.tickMs ?? 1_000),
    '--log-level',
    'info',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const nodes: SimNode[] = [];
  let warnings = 0;
  let stderr = '';
  let buffered = '';
  return new Promise<SimProcess>((resolve, reject) => {
    let ready = false;
    const fail = (error: SimStartError): void => {
      if (ready) return;
      ready = true;
      void stopChild(child).finally(() => reject(error));
    };
    const timer = setTimeout(() => fail(new SimStartError(`simulator: only ${nodes.length}/${options.nodes} nodes up after 60 s`, false)), 60_000);
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof parsed.level === 'number' && parsed.level >= 40) warnings += 1;
        if (ready || parsed.msg !== 'simulated air conditioner up') continue;
        nodes.push({
          index: Number(parsed.node),
          address: String(parsed.address),
          nodeId: typeof parsed.nodeId === 'string' ? parsed.nodeId : null,
          deviceId: String(parsed.deviceId),
          devices: Array.isArray(parsed.devices) ? parsed.devices.map(String) : [String(parsed.deviceId)],
        });
        if (nodes.length === options.nodes) {
          ready = true;
          clearTimeout(timer);
          const pid = child.pid ?? -1;
          resolve({
            pid,
            port,
            nodes: nodes.sort((a, b) => a.index - b.index),
            warnings: () => warnings,
            cpuMs: () => procCpuMs(pid),
            stop: () => stopChild(child),
          });
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new SimStartError(`simulator exited (${code ?? signal}) before all nodes were up: ${stderr.trim()}`, /EADDRINUSE/.test(stderr)));
    });
  });
}

/** Starts `echolake-sim` on a free port and waits until every node is up; retries on a port clash. */
export async function spawnSimulator(options: SimOptions): Promise<SimProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    try {
      return await spawnSimulatorOnce(options, port);
    } catch (error) {
      if (!(error instanceof SimStartError) || !error.addressInUse || attempt >= 4) throw error;
    }
  }
}
