// `npm run bench [name ...]`: runs every bench/*.bench.ts (or the named ones), one at a time and
// each in a process of its own, so one benchmark's heap and sockets never colour another's figures.
// Benchmarks that need Kafka or Mosquitto get them from the test-services harness.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startServices } from '../test/services/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((name) => name.endsWith('.bench.ts'))
  .filter((name) => wanted.length === 0 || wanted.some((w) => name.startsWith(w)))
  .sort();

function runBench(file: string, env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', `bench/${file}`], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

async function main(): Promise<number> {
  if (benches.length === 0) {
    console.error(`no benchmark matches ${wanted.join(' ')}; have: ${readdirSync(here).filter((n) => n.endsWith('.bench.ts')).join(', ')}`);
    return 2;
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  const services = await startServices();
  let failed = 0;
  try {
    for (const bench of benches) {
      console.log(`\n## ${bench}`);
      if ((await runBench(bench, services.env)) !== 0) failed += 1;
    }
  } finally {
    await services.stop();
  }
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`benchmarks failed to start: ${(err as Error).message}`);
    process.exit(1);
  },
);
