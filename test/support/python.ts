import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requiredEnv } from './env.js';

const run = promisify(execFile);

/**
 * Ends the interpreter at once once the script has run to its end: delta-rs's runtime threads can
 * abort Python's normal shutdown ("terminate called without an active exception", delta-rs#2184),
 * which failed a test now and then after every answer had been printed. A script that raises never
 * gets here and fails as before.
 */
const EXIT_AFTER_SCRIPT = '\nimport os as _os, sys as _sys\n_sys.stdout.flush()\n_os._exit(0)\n';

/** Runs a Python script in the test venv (deltalake, pyarrow, duckdb) and parses the JSON it prints last. */
export async function python<T>(script: string, ...args: string[]): Promise<T> {
  try {
    const { stdout } = await run(requiredEnv('ECHOLAKE_TEST_PYTHON'), ['-c', script + EXIT_AFTER_SCRIPT, ...args], { maxBuffer: 256 * 1024 * 1024 });
    const last = stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(last) as T;
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`python failed: ${(err as Error).message}\n${stderr ?? ''}`);
  }
}
