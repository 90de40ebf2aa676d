// Command line for the test services:
//   node --import tsx test/services/cli.ts install
//   node --import tsx test/services/cli.ts run -- <command...>   (exit code = the command's)
//   node --import tsx test/services/cli.ts start                 (print the env, run until Ctrl-C)
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { progress } from './cache.js';
import { ensureInstalled, startServices, type Services } from './index.js';
import { killAllProcesses, stopAllProcesses } from './processes.js';

const USAGE = `usage: cli.ts install
       cli.ts run -- <command> [args...]
       cli.ts start`;

function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 15);
}

/** The first SIGINT/SIGTERM seen while installing or starting; the services are stopped, then we exit. */
let interrupted: NodeJS.Signals | undefined;
/** The command of `run`, once it is running: signals are for it, we wait for it to end. */
let child: ChildProcess | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (child) {
    // Passed on (like npm run does; after a terminal's Ctrl-C the child sees SIGINT twice, which is
    // harmless), then we wait for the child to end and stop the services.
    child.kill(signal);
    return;
  }
  if (interrupted) {
    killAllProcesses();
    process.exit(signalExitCode(signal));
  }
  interrupted = signal;
  progress(`${signal}: stopping the test services`);
  // A start under way then fails on its dead process and stops the rest.
  void stopAllProcesses();
}

async function startOrExit(): Promise<Services> {
  const services = await startServices({ handleSignals: false });
  if (interrupted) {
    await services.stop();
    process.exit(signalExitCode(interrupted));
  }
  return services;
}

async function run(command: string[]): Promise<number> {
  const [cmd, ...args] = command;
  if (cmd === undefined) {
    process.stderr.write(`${USAGE}\nrun: no command given after --\n`);
    return 2;
  }
  await ensureInstalled();
  const services = await startOrExit();
  try {
    const proc = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...services.env } });
    child = proc;
    return await new Promise<number>((resolve) => {
      proc.once('error', (err) => {
        process.stderr.write(`[services] cannot run ${cmd}: ${err.message}\n`);
        resolve(127);
      });
      proc.once('exit', (code, signal) => resolve(code ?? (signal ? signalExitCode(signal) : 1)));
    });
  } finally {
    child = undefined;
    await services.stop();
  }
}

async function start(): Promise<number> {
  const services = await startOrExit();
  for (const [k, v] of Object.entries(services.env)) process.stdout.write(`export ${k}='${v}'\n`);
  progress('running; Ctrl-C (or SIGTERM) stops them');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const poll = setInterval(() => {
      if (interrupted) {
        clearInterval(poll);
        resolve(interrupted);
      }
    }, 100);
  });
  await services.stop();
  return signalExitCode(signal);
}

async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'install':
      await ensureInstalled();
      return 0;
    case 'run':
      return run(rest[0] === '--' ? rest.slice(1) : rest);
    case 'start':
      return start();
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (interrupted) {
      progress(`interrupted by ${interrupted}`);
      process.exit(signalExitCode(interrupted));
    }
    progress(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
