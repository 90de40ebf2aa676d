// `npm run demo` as the README has a newcomer run it (here for a bounded time, on a free port):
// simulated aircons, the edge, the cloud and its own Kafka, readings in the Delta table, and a
// clean stop of everything it started.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { canConnect } from '../services/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runDemo(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'demo/run.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

test('the demo brings readings into the Delta table and stops everything it started', { timeout: 240_000 }, async () => {
  const port = String(20_000 + Math.floor(Math.random() * 20_000));
  const { code, output } = await runDemo(['--duration', '25', '--aircons', '2', '--port', port], 200_000);
  assert.equal(code, 0, output);
  const rows = [...output.matchAll(/Delta readings: version \d+, (\d+) rows/g)].map((match) => Number(match[1]));
  assert.ok(rows.length > 0 && (rows[rows.length - 1] ?? 0) > 0, `readings reached the table:\n${output}`);
  assert.match(output, /aircons found 2\/2/);
  assert.match(output, /stopping after 25 s/);
  const kafkaPort = Number(/Kafka \(KRaft, single node\) on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  assert.equal(await canConnect(kafkaPort), false, 'its Kafka is stopped');
  const work = /working folder (\S+)/.exec(output)?.[1] ?? '';
  assert.deepEqual(processesMentioning(work), [], 'no edge, cloud or simulator left running');
});

/** PIDs of processes whose environment or command line names the folder. */
function processesMentioning(folder: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return ['environ', 'cmdline'].some((file) => readFileSync(`/proc/${pid}/${file}`, 'latin1').includes(folder));
      } catch {
        return false; // gone meanwhile, or not ours to read
      }
    })
    .map(Number);
}

test('the demo refuses a bad flag with the usage and exit code 2', async () => {
  const { code, output } = await runDemo(['--aircons', 'many'], 30_000);
  assert.equal(code, 2);
  assert.match(output, /--aircons many: expected a whole number from 1 to 250\nusage: npm run demo/);
});
