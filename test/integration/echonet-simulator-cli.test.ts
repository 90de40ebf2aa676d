/** The echolake-sim command: starts nodes a controller can find, logs JSON, stops on SIGTERM. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { EchonetController } from '../../edge/echonet/controller.js';
import { silentLogger } from '../../shared/log.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function waitForLines(child: ChildProcess, count: number, match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const found: Array<Record<string, unknown>> = [];
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`only ${found.length}/${count} matching log lines`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const parsed = JSON.parse(line) as Record<string, unknown>; // every line must be JSON
        if (match(parsed)) found.push(parsed);
        if (found.length === count) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
  });
}

test('echolake-sim starts two nodes on loopback, answers a search and stops on SIGTERM', async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'edge/simulator/main.ts', '--nodes', '2', '--base-address', '127.0.0.2', '--port', String(port), '--interface', '127.0.0.1', '--tick-ms', '0'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = once(child, 'exit');
  try {
    const up = await waitForLines(child, 2, (line) => line.msg === 'simulated air conditioner up', 20_000);
    assert.deepEqual(up.map((line) => line.address), ['127.0.0.2', '127.0.0.3']);

    const controller = new EchonetController({ interfaceAddress: '127.0.0.1', port, searchWindowMs: 300, logger: silentLogger() });
    try {
      await controller.start();
      assert.equal(await controller.searchNow(), 2);
    } finally {
      await controller.stop();
    }

    assert.ok(child.pid !== undefined);
    process.kill(child.pid, 'SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, null);
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  }
});

function runCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'edge/simulator/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

test('echolake-sim --preset all-quirks gives each node its profile; quirk flags go on top for --quirk-nodes', async () => {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = runCli(['--nodes', '9', '--base-address', '127.0.2.2', '--port', String(port), '--tick-ms', '0', '--preset', 'all-quirks', '--run-ms', '60000', '--quirk-nodes', '0,2-3', '--vendor-epcs', '--deaf-between', '1000-']);
  const exited = once(child, 'exit');
  try {
    const up = await waitForLines(child, 9, (line) => line.msg === 'simulated air conditioner up', 20_000);
    const quirks = up.map((line) => line.quirks as Record<string, unknown>);
    assert.deepEqual(quirks[0], { vendorEpcs: true, deafBetween: { fromMs: 1000 } }, 'the baseline node gets only the flags');
    assert.equal(quirks[1]?.vendorEpcs, undefined, 'node 1 is not listed');
    assert.deepEqual(quirks[3]?.maxGetBatch, { size: 4, behaviour: 'truncate' }, 'the preset stays under the flags');
    assert.equal(quirks[3]?.vendorEpcs, true);
    assert.deepEqual(quirks[5]?.silentBetween, { fromMs: 12_000, toMs: 21_000 });
    assert.deepEqual(up[4]?.devices, [up[4]?.deviceId, `${String(up[4]?.nodeId)}-001101`], 'node 4 hosts a temperature sensor');
    assert.equal(up[8]?.deviceId, '127.0.2.10-013001', 'node 8 has no identification number');
  } finally {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  }
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
});

test('echolake-sim refuses bad flags with exit code 2 and the usage', async () => {
  const refusals: Array<[args: string[], why: RegExp]> = [
    [['--deaf-between', 'soon'], /--deaf-between/],
    [['--preset', 'chaos'], /--preset/],
    [['--quirk-nodes', 'x'], /--quirk-nodes/],
    // 0.0.0.0 would leave the choice of the multicast interface to the routing table.
    [['--interface', '0.0.0.0'], /--interface must be this host's own IPv4 address/],
  ];
  for (const [args, why] of refusals) {
    const child = runCli(args);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, why);
    assert.match(stderr, /usage: echolake-sim/);
  }
});
