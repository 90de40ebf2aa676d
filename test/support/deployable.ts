import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface LogEvent {
  msg?: string;
  level?: number;
  [field: string]: unknown;
}

/**
 * One of the project's programs as its own process, the way it runs in production (signals, exit
 * codes and JSON logs are real): from its TypeScript source, or from the build when the entry is
 * a `.js` file under `dist/`, with the Node flags given. Stopped by its own PID.
 */
export class Deployable {
  readonly events: LogEvent[] = [];
  readonly stderr: string[] = [];
  /** Called with every log event as it arrives, for callers that count rather than search. */
  private readonly listeners: Array<(event: LogEvent) => void> = [];
  /** Events kept for `waitFor` and `tail`; older ones go, so a long-running demo's memory stays flat. */
  private maxEvents = Number.POSITIVE_INFINITY;
  private readonly child: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(readonly name: string, entry: string, args: string[], env: Record<string, string>, nodeFlags: string[] = []) {
    const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
    this.child = spawn(process.execPath, [...nodeFlags, ...loader, entry, ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.record(line);
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk);
      if (this.stderr.length > this.maxEvents) this.stderr.shift();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Keeps at most the newest `count` events (and stderr chunks); listeners still see them all. */
  retainAtMost(count: number): this {
    this.maxEvents = count;
    return this;
  }

  onEvent(listener: (event: LogEvent) => void): this {
    this.listeners.push(listener);
    return this;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves with the first log event (seen before or after the call) that matches. */
  async waitFor(match: (event: LogEvent) => boolean, timeoutMs: number, what: string): Promise<LogEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(match);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}) before ${what}\n${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** SIGTERM (or the given signal) to this process's own PID; resolves with its exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<number | null> {
    return stopChild(this.child, this.exited, signal, timeoutMs);
  }

  /** Closes the read end of its stdout, as when journald restarts: its next log line meets EPIPE. */
  stopReadingLogs(): void {
    this.child.stdout?.destroy();
  }

  tail(lines = 30): string {
    const out = this.events.slice(-lines).map((event) => JSON.stringify(event));
    return [...out, ...this.stderr.slice(-5)].join('\n');
  }

  private record(line: string): void {
    if (line.trim() === '') return;
    let event: LogEvent;
    try {
      event = JSON.parse(line) as LogEvent;
    } catch {
      event = { msg: line };
    }
    this.events.push(event);
    if (this.events.length > this.maxEvents) this.events.shift();
    for (const listener of this.listeners) listener(event);
    for (const wake of this.waiters.splice(0)) wake();
  }
}
