#!/usr/bin/env node
/**
 * echolake-sim: simulated ECHONET Lite air conditioners for demos, installers, soak runs and tests.
 *
 *   echolake-sim --nodes 3 --base-address 127.0.0.2 --port 3610 --interface 127.0.0.1
 *   echolake-sim --nodes 18 --preset all-quirks --run-ms 600000        # every quirk, spread over 10 min
 *   echolake-sim --nodes 4 --deaf-between 60000-120000 --quirk-nodes 1,3
 *
 * Quirk flags apply to every node, or only to those listed by --quirk-nodes; they go on top of a
 * preset. Logs JSON lines to stdout (each INF sent at debug level); stops cleanly on SIGTERM / SIGINT.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../../shared/log.js';
import { checkInterfaceAddress } from '../echonet/transport.js';
import { type NodeQuirks, type TimeWindow, ALL_QUIRKS_PRESET, allQuirksMix } from './quirks.js';
import { startSimulator } from './simulator.js';

const USAGE = `usage: echolake-sim [--nodes N] [--base-address 127.0.0.2] [--port 3610] [--interface 127.0.0.1]
                    [--tick-ms 1000] [--time-scale 1] [--seed 1] [--maker-code ffffff] [--log-level info]
                    [--preset ${ALL_QUIRKS_PRESET} [--run-ms 600000]] [--quirk-nodes 0,2,5-7]
                    [--reply-delay-ms MS] [--drop-rate 0..1] [--max-get-batch N] [--max-get-batch-behaviour sna|truncate]
                    [--vendor-epcs] [--no-id] [--extended-maps] [--temperature-sensor] [--silent]
                    [--silent-between FROM-TO] [--deaf-between FROM-[TO]] [--move-after-ms MS] [--remote-every-ms MS]
  times are milliseconds after the simulator started`;

const OPTIONS = {
  nodes: { type: 'string' },
  'base-address': { type: 'string' },
  port: { type: 'string' },
  interface: { type: 'string' },
  'tick-ms': { type: 'string' },
  'time-scale': { type: 'string' },
  seed: { type: 'string' },
  'maker-code': { type: 'string' },
  preset: { type: 'string' },
  'run-ms': { type: 'string' },
  'quirk-nodes': { type: 'string' },
  'reply-delay-ms': { type: 'string' },
  'drop-rate': { type: 'string' },
  'max-get-batch': { type: 'string' },
  'max-get-batch-behaviour': { type: 'string' },
  'vendor-epcs': { type: 'boolean' },
  'no-id': { type: 'boolean' },
  'extended-maps': { type: 'boolean' },
  'temperature-sensor': { type: 'boolean' },
  silent: { type: 'boolean' },
  'silent-between': { type: 'string' },
  'deaf-between': { type: 'string' },
  'move-after-ms': { type: 'string' },
  'remote-every-ms': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

function numberArg(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${value}`);
  return n;
}

/** Only flags that were given, so they do not override a preset with defaults. */
function optionalNumber(values: Flags, name: 'reply-delay-ms' | 'drop-rate' | 'move-after-ms' | 'remote-every-ms'): number | undefined {
  const value = values[name];
  return value === undefined ? undefined : numberArg(value, name, 0);
}

/** `FROM-TO` or, open-ended, `FROM-`. */
function windowArg(value: string | undefined, name: string): TimeWindow | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d+)-(\d*)$/.exec(value);
  if (match === null) throw new Error(`--${name} is FROM-TO or FROM- in ms, got ${value}`);
  const fromMs = Number(match[1]);
  return match[2] ? { fromMs, toMs: Number(match[2]) } : { fromMs };
}

/** `0,2,5-7` → {0, 2, 5, 6, 7}. */
function indexListArg(value: string): Set<number> {
  const indices = new Set<number>();
  for (const part of value.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (match === null) throw new Error(`--quirk-nodes is a list like 0,2,5-7, got ${value}`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (let i = first; i <= last; i++) indices.add(i);
  }
  return indices;
}

function maxGetBatchArg(values: Flags): NodeQuirks['maxGetBatch'] {
  if (values['max-get-batch'] === undefined) return undefined;
  const behaviour = values['max-get-batch-behaviour'] ?? 'sna';
  if (behaviour !== 'sna' && behaviour !== 'truncate') throw new Error('--max-get-batch-behaviour is sna or truncate');
  return { size: numberArg(values['max-get-batch'], 'max-get-batch', 10), behaviour };
}

function quirksFromFlags(values: Flags): NodeQuirks {
  const quirks: NodeQuirks = {
    replyDelayMs: optionalNumber(values, 'reply-delay-ms'),
    dropRequestRate: optionalNumber(values, 'drop-rate'),
    maxGetBatch: maxGetBatchArg(values),
    vendorEpcs: values['vendor-epcs'],
    noIdentificationNumber: values['no-id'],
    extendedPropertyMaps: values['extended-maps'],
    temperatureSensor: values['temperature-sensor'],
    silent: values.silent,
    silentBetween: windowArg(values['silent-between'], 'silent-between'),
    deafBetween: windowArg(values['deaf-between'], 'deaf-between'),
    moveAfterMs: optionalNumber(values, 'move-after-ms'),
    remoteControlEveryMs: optionalNumber(values, 'remote-every-ms'),
  };
  return Object.fromEntries(Object.entries(quirks).filter(([, value]) => value !== undefined));
}

function nodeQuirksFrom(values: Flags, nodes: number): Record<number, NodeQuirks> {
  if (values.preset !== undefined && values.preset !== ALL_QUIRKS_PRESET) throw new Error(`--preset knows only ${ALL_QUIRKS_PRESET}`);
  const preset = values.preset === undefined ? {} : allQuirksMix(nodes, numberArg(values['run-ms'], 'run-ms', 600_000));
  const flagged = quirksFromFlags(values);
  const targets = values['quirk-nodes'] === undefined ? undefined : indexListArg(values['quirk-nodes']);
  return Object.fromEntries(
    Array.from({ length: nodes }, (_, index) => [index, { ...preset[index], ...(targets === undefined || targets.has(index) ? flagged : {}) }]),
  );
}

function parseCli(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true });
  const nodes = numberArg(values.nodes, 'nodes', 1);
  // Loopback by default: the simulator must never multicast onto a real network unless told to.
  const interfaceAddress = values.interface ?? '127.0.0.1';
  checkInterfaceAddress(interfaceAddress, '--interface');
  return {
    help: values.help ?? false,
    logLevel: values['log-level'] ?? process.env.LOG_LEVEL ?? 'info',
    nodes,
    baseAddress: values['base-address'] ?? '127.0.0.2',
    port: numberArg(values.port, 'port', 3610),
    interfaceAddress,
    tickMs: numberArg(values['tick-ms'], 'tick-ms', 1000),
    timeScale: numberArg(values['time-scale'], 'time-scale', 1),
    seed: numberArg(values.seed, 'seed', 1),
    makerCode: values['maker-code'] ?? 'ffffff',
    nodeQuirks: nodeQuirksFrom(values, nodes),
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
  // Signals are handled from before the start: the nodes announce themselves while it runs, and
  // whoever started us may stop us as soon as it reads that.
  const started = startSimulator({ ...cli, logger });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'simulator shutting down');
    started
      .then((simulator) => simulator.stop())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'simulator did not stop cleanly');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await started;
}

main().catch((error: unknown) => {
  process.stderr.write(`echolake-sim: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
