#!/usr/bin/env node
/**
 * echolake-sim: simulated ECHONET Lite air conditioners for demos, installers and tests.
 *
 *   echolake-sim --nodes 3 --base-address 127.0.0.2 --port 3610 --interface 127.0.0.1
 *
 * Logs JSON lines to stdout; stops cleanly on SIGTERM / SIGINT.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../../shared/log.js';
import type { NodeQuirks } from './quirks.js';
import { startSimulator } from './simulator.js';

const USAGE = `usage: echolake-sim [--nodes N] [--base-address 127.0.0.2] [--port 3610] [--interface 127.0.0.1]
                    [--tick-ms 1000] [--time-scale 1] [--seed 1] [--maker-code ffffff]
                    [--reply-delay-ms MS] [--drop-rate 0..1] [--max-get-batch N] [--max-get-batch-behaviour sna|truncate]
                    [--vendor-epcs] [--no-id] [--log-level info]`;

function numberArg(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${value}`);
  return n;
}

function parseCli(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: 'string' },
      'base-address': { type: 'string' },
      port: { type: 'string' },
      interface: { type: 'string' },
      'tick-ms': { type: 'string' },
      'time-scale': { type: 'string' },
      seed: { type: 'string' },
      'maker-code': { type: 'string' },
      'reply-delay-ms': { type: 'string' },
      'drop-rate': { type: 'string' },
      'max-get-batch': { type: 'string' },
      'max-get-batch-behaviour': { type: 'string' },
      'vendor-epcs': { type: 'boolean' },
      'no-id': { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  const behaviourArg = values['max-get-batch-behaviour'] ?? 'sna';
  if (behaviourArg !== 'sna' && behaviourArg !== 'truncate') throw new Error('--max-get-batch-behaviour is sna or truncate');
  const behaviour: 'sna' | 'truncate' = behaviourArg;
  const maxGetBatch = values['max-get-batch'] === undefined ? undefined : { size: numberArg(values['max-get-batch'], 'max-get-batch', 10), behaviour };
  const quirks: NodeQuirks = {
    replyDelayMs: numberArg(values['reply-delay-ms'], 'reply-delay-ms', 0),
    dropRequestRate: numberArg(values['drop-rate'], 'drop-rate', 0),
    vendorEpcs: values['vendor-epcs'] ?? false,
    noIdentificationNumber: values['no-id'] ?? false,
    ...(maxGetBatch ? { maxGetBatch } : {}),
  };
  return {
    help: values.help ?? false,
    logLevel: values['log-level'] ?? process.env.LOG_LEVEL ?? 'info',
    nodes: numberArg(values.nodes, 'nodes', 1),
    baseAddress: values['base-address'] ?? '127.0.0.2',
    port: numberArg(values.port, 'port', 3610),
    // Loopback by default: the simulator must never multicast onto a real network unless told to.
    interfaceAddress: values.interface ?? '127.0.0.1',
    tickMs: numberArg(values['tick-ms'], 'tick-ms', 1000),
    timeScale: numberArg(values['time-scale'], 'time-scale', 1),
    seed: numberArg(values.seed, 'seed', 1),
    makerCode: values['maker-code'] ?? 'ffffff',
    quirks,
  };
}

async function main(): Promise<void> {
  let cli: ReturnType<typeof parseCli>;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (cli.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const logger = createLogger('simulator', cli.logLevel);
  const simulator = await startSimulator({ ...cli, logger });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'simulator shutting down');
    simulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'simulator did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`echolake-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
