/**
 * Runs echonet-controller-child.ts in a process of its own, compiled to plain JavaScript first.
 *
 * Why compiled: the tsx loader costs about 40 MB of RSS in every process it is loaded into (it runs
 * its hooks on a worker thread), which would dwarf what the controller itself uses. The gateway runs
 * compiled JavaScript (dist/), and so does the measured process. The TypeScript compiler emits only
 * the child and what it imports into a temporary directory, which a `node_modules` link and a
 * `package.json` of type module make resolvable; it is removed when the benchmark exits.
 *
 * And with the Node flags of the systemd unit, as the gateway runs the edge: a small young
 * generation, a 64 MB old generation and one V8 worker thread change both memory and CPU time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import type { ChildControllerOptions, ChildRequest, DiscoveryResult, Sample, TimingRecords } from './echonet-controller-child.js';
import { unitNodeFlags } from '../../test/support/edge-node-flags.js';
import { ROOT, trackChild } from './echonet-harness.js';

export type { ChildControllerOptions, DiscoveryResult, Sample, TimingRecords } from './echonet-controller-child.js';

const CHILD_SOURCE = 'bench/support/echonet-controller-child.ts';
let compiled: string | undefined;

/** Compiles the child (once per benchmark process) and returns the path of its JavaScript. */
export function compileControllerChild(): string {
  if (compiled !== undefined) return compiled;
  const outDir = mkdtempSync(join(tmpdir(), 'echolake-bench-controller-'));
  process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, 'tsconfig.json'),
    { outDir, rootDir: ROOT, noEmit: false, sourceMap: false, declaration: false, incremental: false },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
      },
    },
  );
  if (parsed === undefined) throw new Error('tsconfig.json could not be read');
  const program = ts.createProgram({ rootNames: [join(ROOT, CHILD_SOURCE)], options: parsed.options });
  const emitted = program.emit();
  if (emitted.emitSkipped) throw new Error('the TypeScript compiler emitted nothing for the controller child');
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  compiled = join(outDir, CHILD_SOURCE.replace(/\.ts$/, '.js'));
  return compiled;
}

/**
 * The unit's Node flags (systemd/echolake-edge.service), unless ECHOLAKE_BENCH_CHILD_FLAGS
 * (space-separated) names others; set it empty for Node's defaults.
 */
export function controllerNodeFlags(): string[] {
  const override = process.env.ECHOLAKE_BENCH_CHILD_FLAGS;
  return override === undefined ? unitNodeFlags() : override.split(/\s+/).filter((flag) => flag !== '');
}

type Command = ChildRequest['cmd'];
type ArgsOf<C extends Command> = Omit<Extract<ChildRequest, { cmd: C }>, 'id' | 'cmd'>;

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/** One controller process. */
export class ControllerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.result);
      else waiter.reject(new Error(reply.error ?? 'controller child failed'));
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`controller child exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Runs under controllerNodeFlags(). */
  static async spawn(): Promise<ControllerProcess> {
    const script = compileControllerChild();
    const child = spawn(process.execPath, ['--expose-gc', ...controllerNodeFlags(), script], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    trackChild(child);
    const [ready] = (await once(child, 'message')) as [Reply];
    if (!ready.ok) throw new Error('controller child did not start');
    return new ControllerProcess(child);
  }

  private call<T>(cmd: Command, args: object): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: (value) => resolve(value as T), reject });
      this.child.send({ id, cmd, ...args });
    });
  }

  start(options: ChildControllerOptions, expected: readonly string[], logLevel = 'warn'): Promise<{ startedAt: number }> {
    const args: ArgsOf<'start'> = { options, expected, logLevel };
    return this.call('start', args);
  }

  waitDiscovered(timeoutMs: number): Promise<DiscoveryResult> {
    return this.call('waitDiscovered', { timeoutMs });
  }

  /** CPU, memory and counters now; after two forced collections when `gc`. */
  sample(gc = false): Promise<Sample> {
    return this.call('sample', { gc });
  }

  /** Switches Get-to-reading timing on or off; returns what was recorded since it was switched on. */
  timing(on: boolean): Promise<TimingRecords> {
    return this.call('timing', { on });
  }

  stopController(): Promise<null> {
    return this.call('stop', {});
  }

  /** Stops the controller and ends the process (by its pid, if it does not leave by itself). */
  async exit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    await this.stopController().catch(() => undefined);
    this.child.disconnect();
    const timer = setTimeout(() => {
      if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    }, 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** Starts a controller process; a port clash on 127.0.0.1 is reported as such (`EADDRINUSE`). */
export async function startController(options: ChildControllerOptions, expected: readonly string[], logLevel?: string): Promise<ControllerProcess> {
  const controller = await ControllerProcess.spawn();
  try {
    await controller.start(options, expected, logLevel);
    return controller;
  } catch (error) {
    await controller.exit();
    throw error;
  }
}
