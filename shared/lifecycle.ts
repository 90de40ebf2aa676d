import { ConfigError } from './config.js';
import type { Logger } from './log.js';

/** A part of a deployable that is started in order and stopped in reverse order. */
export interface Component {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** A part that takes longer than this to stop is given up on, so a stop always ends (systemd kills at 30 s). */
const STOP_DEADLINE_MS = 10_000;

/**
 * Starts the components one by one; if one fails, the ones already started are stopped again.
 * SIGTERM and SIGINT, even during the start, stop everything started so far in reverse order and
 * exit: 0 when every part stopped cleanly, 1 otherwise.
 */
export async function runComponents(components: Component[], log: Logger): Promise<{ stop(): Promise<boolean> }> {
  const started: Component[] = [];
  let stopRequested = false;
  const stopAll = async (): Promise<boolean> => {
    let clean = true;
    for (const component of started.splice(0).reverse()) clean = (await stopOne(component, log)) && clean;
    return clean;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'stopping');
    stopRequested = true;
    if (startedAll) void stopAll().then((clean) => process.exit(clean ? 0 : 1));
  };
  let startedAll = false;
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  for (const component of components) {
    if (stopRequested) break;
    try {
      await component.start();
    } catch (err) {
      log.fatal({ part: component.name, err: (err as Error).message }, 'start failed');
      await stopAll();
      throw err;
    }
    started.push(component);
    log.info({ part: component.name }, 'started');
  }
  startedAll = true;
  if (stopRequested) process.exit((await stopAll()) ? 0 : 1);
  return {
    stop: async () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      return stopAll();
    },
  };
}

async function stopOne(component: Component, log: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_DEADLINE_MS)));
  try {
    const outcome = await Promise.race([Promise.resolve(component.stop()).then(() => 'stopped' as const), deadline]);
    if (outcome === 'late') {
      log.error({ part: component.name, deadlineMs: STOP_DEADLINE_MS }, 'stop took too long; given up on');
      return false;
    }
    log.info({ part: component.name }, 'stopped');
    return true;
  } catch (err) {
    log.error({ part: component.name, err: (err as Error).message }, 'stop failed');
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The value after `--name` on the command line, if given. */
export function flagValue(argv: string[], name: string): string | undefined {
  const index = argv.indexOf(`--${name}`);
  return index === -1 ? undefined : argv[index + 1];
}

export interface Deployable<Config> {
  /** Program name for the last log line, e.g. `echolake-edge`. */
  name: string;
  log: Logger;
  loadConfig(file: string | undefined): Config;
  components(config: Config): Component[];
  /** Fields for the first log line, so a restart loop is easy to spot in the journal. */
  describe(config: Config): Record<string, unknown>;
}

/**
 * The command line both programs share: `--check-config FILE` validates and exits, `--config FILE`
 * starts. A configuration error exits with code 2 and the list of problems on stderr (systemd shows
 * it, and Restart= will not help); any other start failure is logged and exits with code 1.
 */
export function runDeployable<Config>(program: Deployable<Config>, argv: string[]): void {
  const start = async (): Promise<void> => {
    const checkOnly = flagValue(argv, 'check-config');
    if (checkOnly !== undefined) {
      program.loadConfig(checkOnly);
      console.log(`${checkOnly}: configuration is valid`);
      return;
    }
    const config = program.loadConfig(flagValue(argv, 'config'));
    program.log.info(program.describe(config), `${program.name} starting`);
    await runComponents(program.components(config), program.log);
  };
  start().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    program.log.fatal({ err: (err as Error).message, stack: (err as Error).stack }, `${program.name} failed`);
    process.exit(1);
  });
}
