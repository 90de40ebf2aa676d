import type { ChildProcess } from 'node:child_process';
import { sleep } from '../services/processes.js';

export { sleep };

/** Polls `probe` until it yields a value (not undefined or false), or fails naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Signals a child process by its own PID and, should it still run after `timeoutMs`, kills it;
 * resolves with `exited` (whatever the caller's promise of its end resolves to).
 */
export async function stopChild<T>(child: ChildProcess, exited: Promise<T>, signal: NodeJS.Signals, timeoutMs: number): Promise<T> {
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
