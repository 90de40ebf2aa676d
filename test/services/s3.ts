// S3-compatible server for tests: moto's server (from the test venv) on a free loopback port, state in
// memory (large bodies spool into the run dir). It starts empty: tests create their own buckets.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { makeRunDir, progress, removeRunDir } from './cache.js';
import { ServiceProcess, freePorts, portWasTaken, waitUntil } from './processes.js';
import { venvPython } from './python.js';
import type { RunningService } from './service.js';

const READY_TIMEOUT_MS = 60_000;

/** moto accepts any credentials; these are what the tests are told to use. */
export const S3_ACCESS_KEY = 'echolake-test';
export const S3_SECRET_KEY = 'echolake-test-secret';
export const S3_REGION = 'us-east-1';

async function listBucketsOk(endpoint: string): Promise<boolean> {
  const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.ok;
}

async function startOnce(): Promise<RunningService & { portTaken?: boolean }> {
  const dir = makeRunDir('s3');
  const [port] = (await freePorts(1)) as [number];
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = await ServiceProcess.start(
    's3',
    venvPython(),
    ['-m', 'moto.server', '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: dir,
      logFile: path.join(dir, 'moto.log'),
      env: { ...process.env, TMPDIR: dir, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
    },
  );
  const stop = async (): Promise<void> => {
    await proc.stop(5_000);
    removeRunDir(dir);
  };
  try {
    await waitUntil(`s3 (moto server) on ${endpoint} (log ${proc.logFile})`, () => listBucketsOk(endpoint), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 200,
      proc,
    });
  } catch (err) {
    const taken = portWasTaken(proc.logFile);
    await proc.stop(3_000);
    if (taken) {
      removeRunDir(dir);
      return { name: 's3', env: {}, dir, stop: () => Promise.resolve(), portTaken: true };
    }
    throw err;
  }
  return {
    name: 's3',
    env: {
      ECHOLAKE_TEST_S3_ENDPOINT: endpoint,
      ECHOLAKE_TEST_S3_ACCESS_KEY: S3_ACCESS_KEY,
      ECHOLAKE_TEST_S3_SECRET_KEY: S3_SECRET_KEY,
      ECHOLAKE_TEST_S3_REGION: S3_REGION,
    },
    dir,
    stop,
  };
}

/** Start a fresh, empty moto S3 server on loopback. Call installPythonVenv() first. */
export async function startS3(): Promise<RunningService> {
  if (!existsSync(venvPython())) {
    throw new Error(`s3: the test venv (${venvPython()}) with moto is missing: run ensureInstalled() first`);
  }
  for (let attempt = 1; ; attempt++) {
    const svc = await startOnce();
    if (!svc.portTaken) return svc;
    if (attempt >= 3) throw new Error('s3: its free port was taken by another process 3 times in a row');
    progress('s3: the port was taken before moto could bind it; retrying on a new port');
  }
}
