import { parseArgs } from 'node:util';
import { ConfigError } from './config.js';
import type { Logger } from './log.js';

/** A part of a deployable that is started in order and stopped in reverse order. */
export interface Component {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/**
 * How a part asks for the orderly stop when it cannot go on (a Kafka consumer that gave up, a
 * lost lease): the same reverse stop a SIGTERM gets, then exit 1, so the supervisor restarts the
 * process — never a bare `process.exit` that skips the other parts' stop.
 */
export class Shutdown {
  private handler: ((reason: Error) => void) | undefined;
  private early: Error | undefined;

  request(reason: Error): void {
    if (this.handler === undefined) this.early ??= reason;
    else this.handler(reason);
  }

  /** Called once by the runner; a request that came before it is handed over at once. */
  bind(handler: (reason: Error) => void): void {
    this.handler = handler;
    if (this.early !== undefined) handler(this.early);
  }
}

/** A part that takes longer than this to stop is given up on, so a stop always ends (systemd kills at 30 s). */
const STOP_DEADLINE_MS = 10_000;

/**
 * Starts the components one by one; if one fails, the ones already started are stopped again.
 * SIGTERM and SIGINT, even during the start, stop everything started so far in reverse order and
 * exit: 0 when every part stopped cleanly, 1 otherwise.
 */
export async function runComponents(components: Component[], log: Logger, shutdown = new Shutdown()): Promise<{ stop(): Promise<boolean> }> {
  const started: Component[] = [];
  let stopRequested = false;
  let failed = false;
  const stopAll = async (): Promise<boolean> => {
    let clean = true;
    for (const component of started.splice(0).reverse()) clean = (await stopOne(component, log)) && clean;
    return clean;
  };
  const exitAfterStop = (): void => void stopAll().then((clean) => process.exit(clean && !failed ? 0 : 1));
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, 'stopping');
    if (stopRequested) return;
    stopRequested = true;
    if (startedAll) exitAfterStop();
  };
  let startedAll = false;
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  shutdown.bind((reason) => {
    log.fatal({ err: reason }, 'a part cannot go on; stopping everything to be restarted');
    failed = true;
    if (stopRequested) return;
    stopRequested = true;
    if (startedAll) exitAfterStop();
  });
  for (const component of components) {
    if (stopRequested) break;
    try {
      await component.start();
    } catch (err) {
      log.fatal({ part: component.name, err }, 'start failed');
      await stopAll();
      throw err;
    }
    started.push(component);
    log.info({ part: component.name }, 'started');
  }
  startedAll = true;
  if (stopRequested) process.exit((await stopAll()) && !failed ? 0 : 1);
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
    log.error({ part: component.name, err }, 'stop failed');
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** What the command line asks for: check a file and exit, or run with a file (or none). */
export type CommandLine =
  | { action: 'check'; file: string; overrides: string[] }
  | { action: 'run'; file: string | undefined; overrides: string[] };

const USAGE = 'usage: [--config FILE | --check-config FILE] [--set path=value ...]';

/** Parses the shared command line; a flag it does not know is a configuration error, not ignored. */
export function parseCommandLine(argv: string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, 'check-config': { type: 'string' }, set: { type: 'string', multiple: true } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError([`command line: ${(err as Error).message}; ${USAGE}`]);
  }
  const overrides = parsed.set ?? [];
  const check = parsed['check-config'];
  if (check !== undefined && parsed.config !== undefined) throw new ConfigError([`command line: --config and --check-config exclude each other; ${USAGE}`]);
  return check === undefined ? { action: 'run', file: parsed.config, overrides } : { action: 'check', file: check, overrides };
}

export interface Deployable<Config> {
  /** Program name for the last log line, e.g. `echolake-edge`. */
  name: string;
  log: Logger;
  loadConfig(file: string | undefined, overrides: string[]): Config;
  /** The parts in start order; `shutdown` is how one of them asks for the orderly stop. */
  components(config: Config, shutdown: Shutdown): Component[];
  /** Fields for the first log line, so a restart loop is easy to spot in the journal. */
  describe(config: Config): Record<string, unknown>;
  /**
   * Problems only this host can tell (an address to bind that it does not have), for
   * `--check-config`; at run time the parts concerned wait instead, so they are not load errors.
   */
  hostProblems?(config: Config): string[];
}

/**
 * The command line both programs share: `--check-config FILE` validates (and checks it against this
 * host) and exits, `--config FILE` starts; `--set path=value` (repeatable) overrides one setting
 * over the file and the environment. A configuration error exits with code 2 and the list of problems on stderr (systemd shows it, and
 * Restart= will not help); any other start failure is logged and exits with code 1.
 */
export function runDeployable<Config>(program: Deployable<Config>, argv: string[]): void {
  const start = async (): Promise<void> => {
    const commandLine = parseCommandLine(argv);
    const config = program.loadConfig(commandLine.file, commandLine.overrides);
    if (commandLine.action === 'check') {
      const problems = program.hostProblems?.(config) ?? [];
      if (problems.length > 0) throw new ConfigError(problems);
      console.log(`${commandLine.file}: configuration is valid`);
      return;
    }
    program.log.info(program.describe(config), `${program.name} starting`);
    const shutdown = new Shutdown();
    await runComponents(program.components(config, shutdown), program.log, shutdown);
  };
  start().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    program.log.fatal({ err }, `${program.name} failed`);
    process.exit(1);
  });
}
