// Where the harness keeps what it installs (outside the repo), progress lines, install locks and
// per-start temp dirs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processAlive, sleep } from './processes.js';

/** `$ECHOLAKE_CACHE`, else `~/.cache/echolake`. Created on demand. */
export function cacheDir(): string {
  const dir = process.env.ECHOLAKE_CACHE ?? path.join(os.homedir(), '.cache', 'echolake');
  mkdirSync(dir, { recursive: true });
  return path.resolve(dir);
}

/** One short progress line on stderr. */
export function progress(message: string): void {
  process.stderr.write(`[services] ${message}\n`);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;
}


/**
 * Run `fn` holding an exclusive lock (a directory in the cache), so two test processes on one
 * machine do not install the same thing at once. A lock left by a dead process is taken over.
 */
export async function withInstallLock<T>(name: string, fn: () => Promise<T>, waitMs = 20 * 60_000): Promise<T> {
  const lockDir = path.join(cacheDir(), `${name}.lock`);
  const owner = path.join(lockDir, 'pid');
  const deadline = Date.now() + waitMs;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(owner, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(owner, 'utf8'));
      } catch {
        // being created right now, or left empty by a crash: judged on the next round
      }
      if (Number.isInteger(holder) && holder > 0 && !processAlive(holder)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!announced) {
        progress(`waiting for another process (pid ${holder}) installing ${name} (lock ${lockDir})`);
        announced = true;
      }
      if (Date.now() > deadline) {
        throw new Error(`install lock ${lockDir} still held by pid ${holder} after ${waitMs} ms; remove it if stale`);
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** A fresh private temp dir for one start of one service. */
export function makeRunDir(service: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `echolake-${service}-`));
}

/** Remove a run dir unless ECHOLAKE_TEST_KEEP_DIRS=1 asks to keep logs and data for inspection. */
export function removeRunDir(dir: string): void {
  if (process.env.ECHOLAKE_TEST_KEEP_DIRS === '1') return;
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
}
