// The test-services harness: installs (once, cached outside the repo) and starts on loopback a
// single-node KRaft Kafka, Mosquitto, an S3-compatible server (moto) and a Python venv with
// deltalake/pyarrow/duckdb/pandas. A service whose ECHOLAKE_TEST_* variable is already set is neither
// installed nor started: the given value is passed through.
import { progress, seconds } from './cache.js';
import { installKafka, startKafka } from './kafka.js';
import { installMosquitto, startMosquitto } from './mosquitto.js';
import { killAllProcesses, stopAllProcesses } from './processes.js';
import { INTEROP_VENV, SHARING_VENV, installPythonVenv, venvPython } from './python.js';
import { startS3 } from './s3.js';
import type { RunningService } from './service.js';

export const ENV_KAFKA_BROKERS = 'ECHOLAKE_TEST_KAFKA_BROKERS';
export const ENV_MQTT_URL = 'ECHOLAKE_TEST_MQTT_URL';
export const ENV_S3_ENDPOINT = 'ECHOLAKE_TEST_S3_ENDPOINT';
export const ENV_S3_ACCESS_KEY = 'ECHOLAKE_TEST_S3_ACCESS_KEY';
export const ENV_S3_SECRET_KEY = 'ECHOLAKE_TEST_S3_SECRET_KEY';
export const ENV_S3_REGION = 'ECHOLAKE_TEST_S3_REGION';
export const ENV_PYTHON = 'ECHOLAKE_TEST_PYTHON';
/** The Python with the ECHONET Lite peers of the interoperability tests (uecho). */
export const ENV_INTEROP_PYTHON = 'ECHOLAKE_TEST_INTEROP_PYTHON';
export const ENV_SHARING_PYTHON = 'ECHOLAKE_TEST_SHARING_PYTHON';

/** Every variable the harness provides. */
export const SERVICE_ENV_VARS = [
  ENV_KAFKA_BROKERS,
  ENV_MQTT_URL,
  ENV_S3_ENDPOINT,
  ENV_S3_ACCESS_KEY,
  ENV_S3_SECRET_KEY,
  ENV_S3_REGION,
  ENV_PYTHON,
  ENV_INTEROP_PYTHON,
  ENV_SHARING_PYTHON,
] as const;

export interface Services {
  /** ECHOLAKE_TEST_* variables: from the started services, or passed through from process.env. */
  env: Record<string, string>;
  /** Stop everything that was started (each by its own pid), remove temp dirs. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /**
   * Stop the services on SIGINT/SIGTERM and then exit (128 + signal). Default true. A caller that
   * handles signals itself (the CLI waits for its child command first) passes false.
   */
  handleSignals?: boolean;
}

function given(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** What this environment asks the harness to provide itself. */
function wanted(): { kafka: boolean; mqtt: boolean; s3: boolean; python: boolean; interopPython: boolean; sharing: boolean } {
  return {
    kafka: given(ENV_KAFKA_BROKERS) === undefined,
    mqtt: given(ENV_MQTT_URL) === undefined,
    s3: given(ENV_S3_ENDPOINT) === undefined,
    python: given(ENV_PYTHON) === undefined,
    interopPython: given(ENV_INTEROP_PYTHON) === undefined,
    sharing: given(ENV_SHARING_PYTHON) === undefined,
  };
}

async function allSettledOrThrow(what: string, tasks: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  const [first] = errors;
  if (first && errors.length === 1) throw first;
  if (errors.length > 1) {
    throw new Error(`${what}: ${errors.length} steps failed:\n\n${errors.map((e) => e.message).join('\n\n')}`);
  }
}

let installing: Promise<void> | undefined;

/**
 * Install what the services need, once (cached in $ECHOLAKE_CACHE or ~/.cache/echolake); quick when
 * everything is there. Kafka jars (Maven), Mosquitto (apt, when root), the Python venv (pip).
 */
export function ensureInstalled(): Promise<void> {
  installing ??= (async () => {
    const w = wanted();
    const started = Date.now();
    const tasks: Promise<void>[] = [];
    if (w.kafka) tasks.push(installKafka());
    if (w.mqtt) tasks.push(installMosquitto());
    // moto (the S3 server) lives in the venv too.
    if (w.python || w.s3) tasks.push(installPythonVenv());
    if (w.interopPython) tasks.push(installPythonVenv(INTEROP_VENV));
    if (w.sharing) tasks.push(installPythonVenv(SHARING_VENV));
    await allSettledOrThrow('installing the test services', tasks);
    if (Date.now() - started > 5_000) progress(`installed in ${seconds(started)}`);
  })();
  installing.catch(() => {
    installing = undefined; // let a later call try again
  });
  return installing;
}

/**
 * Install if needed, then start the services in parallel on loopback, each on free ports with its
 * own temp dir. Resolves once every service is really ready.
 */
export async function startServices(opts: StartOptions = {}): Promise<Services> {
  await ensureInstalled();
  const w = wanted();
  const started = Date.now();
  const running: RunningService[] = [];
  const track = (p: Promise<RunningService>): Promise<void> => p.then((svc) => void running.push(svc));
  const tasks: Promise<void>[] = [];
  if (w.kafka) tasks.push(track(startKafka()));
  if (w.mqtt) tasks.push(track(startMosquitto()));
  if (w.s3) tasks.push(track(startS3()));

  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      removeSignalHandlers();
      await Promise.allSettled(running.map((svc) => svc.stop()));
    })();
    return stopping;
  };

  let signalCount = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalCount++;
    if (signalCount > 1) {
      killAllProcesses();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    progress(`${signal}: stopping the test services`);
    // Also what is still starting (spawned, not yet ready): every process this harness spawned.
    void Promise.allSettled([stopAll(), stopAllProcesses()]).finally(() =>
      process.exit(signal === 'SIGINT' ? 130 : 143),
    );
  };
  const removeSignalHandlers = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  if (opts.handleSignals ?? true) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  try {
    await allSettledOrThrow('starting the test services', tasks);
  } catch (err) {
    await stopAll();
    throw err;
  }

  const env: Record<string, string> = {};
  for (const svc of running) Object.assign(env, svc.env);
  if (w.python) env[ENV_PYTHON] = venvPython();
  if (w.interopPython) env[ENV_INTEROP_PYTHON] = venvPython(INTEROP_VENV);
  if (w.sharing) env[ENV_SHARING_PYTHON] = venvPython(SHARING_VENV);
  // A variable the caller set wins (e.g. their own S3 credentials next to their own endpoint).
  for (const name of SERVICE_ENV_VARS) {
    const v = given(name);
    if (v !== undefined) env[name] = v;
  }

  const names = running.map((s) => s.name);
  if (names.length > 0) progress(`${names.join(', ')} ready in ${seconds(started)}`);
  return { env, stop: stopAll };
}
