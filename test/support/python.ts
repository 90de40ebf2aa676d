import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requiredEnv } from './env.js';

const run = promisify(execFile);

/** Runs a Python script in the test venv (deltalake, pyarrow, duckdb) and parses the JSON it prints last. */
export async function python<T>(script: string, ...args: string[]): Promise<T> {
  try {
    const { stdout } = await run(requiredEnv('ECHOLAKE_TEST_PYTHON'), ['-c', script, ...args], { maxBuffer: 256 * 1024 * 1024 });
    const last = stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(last) as T;
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`python failed: ${(err as Error).message}\n${stderr ?? ''}`);
  }
}
