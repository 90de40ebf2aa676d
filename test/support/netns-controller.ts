/**
 * Runs our `EchonetController` inside a test's network namespace and reports on stdout, one JSON
 * object per line:
 *
 *   { "type": "ready", "address": … }                   sockets bound, first search sent
 *   { "type": "device", "event": "discovered", "device": DeviceRecord }
 *   { "type": "observation", "observation": Observation }
 *   { "type": "set-result", "id": …, "outcome": SetOutcome }
 *   { "type": "stopped", "counters": … }                after SIGTERM / SIGINT, then exit 0
 *
 * Commands, one JSON object per line on stdin:
 *   { "cmd": "set", "id": "any", "deviceId": "…", "values": { "targetTemperature": 20 } }
 *
 * The controller's own log goes to stderr (level from LOG_LEVEL, default warn).
 *
 *   node --import tsx test/support/netns-controller.ts --interface 10.213.7.10 [--port 3610]
 *        [--search-interval-ms 1000] [--search-window-ms 500] [--poll-interval-ms 1000]
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { EchonetController } from '../../edge/echonet/controller.js';
import type { PropertyValue } from '../../shared/reading.js';

function print(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function numberArg(values: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      interface: { type: 'string' },
      port: { type: 'string' },
      'search-interval-ms': { type: 'string' },
      'search-window-ms': { type: 'string' },
      'poll-interval-ms': { type: 'string' },
      'request-timeout-ms': { type: 'string' },
    },
    strict: true,
  });
  const interfaceAddress = values.interface;
  if (interfaceAddress === undefined) throw new Error('--interface is required (the namespace address)');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn', base: { component: 'netns-controller' } }, pino.destination(2));

  const controller = new EchonetController({
    interfaceAddress,
    port: numberArg(values, 'port', 3610),
    searchIntervalMs: numberArg(values, 'search-interval-ms', 1_000),
    searchWindowMs: numberArg(values, 'search-window-ms', 500),
    pollIntervalMs: numberArg(values, 'poll-interval-ms', 1_000),
    requestTimeoutMs: numberArg(values, 'request-timeout-ms', 500),
    maxRetries: 2,
    retryBaseDelayMs: 50,
    retryMaxDelayMs: 200,
    logger,
  });
  controller.on('device', (event) => {
    const { type, device } = event;
    print({ type: 'device', event: type, device, ...(event.type === 'moved' ? { from: event.from } : {}) });
  });
  controller.on('observation', (observation) => print({ type: 'observation', observation }));

  const commands = createInterface({ input: process.stdin });
  commands.on('line', (line) => {
    if (line.trim() === '') return;
    void handleCommand(controller, line);
  });

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    commands.close();
    controller.stop().then(
      () => {
        print({ type: 'stopped', signal, counters: controller.counters() });
        process.exit(0);
      },
      (error: unknown) => {
        process.stderr.write(`controller did not stop cleanly: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  await controller.start();
  print({ type: 'ready', address: interfaceAddress, pid: process.pid });
}

async function handleCommand(controller: EchonetController, line: string): Promise<void> {
  let command: { cmd?: unknown; id?: unknown; deviceId?: unknown; values?: unknown };
  try {
    command = JSON.parse(line) as typeof command;
  } catch {
    print({ type: 'error', message: `not JSON: ${line}` });
    return;
  }
  if (command.cmd === 'set' && typeof command.deviceId === 'string' && typeof command.values === 'object' && command.values !== null) {
    const outcome = await controller.setProperties(command.deviceId, command.values as Record<string, PropertyValue>);
    print({ type: 'set-result', id: command.id ?? null, outcome });
    return;
  }
  print({ type: 'error', message: `unknown command: ${line}` });
}

main().catch((error: unknown) => {
  process.stderr.write(`netns-controller: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
