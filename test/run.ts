// The whole suite in one command: unit tests need nothing; integration tests get real services
// (Kafka, Mosquitto, an S3 server, the Python readers) from the harness, installed on first use
// and cached outside the repo. Runs on whichever node started it, so CI can run it on Node 24 too.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from '../scripts/build-web.js';
import { startServices } from './services/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function testFiles(folder: string): string[] {
  return readdirSync(join(root, 'test', folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.test.ts'))
    .sort()
    .map((name) => relative(root, join(root, 'test', folder, name)));
}

function runNodeTest(files: string[], env: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', ...files], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128))));
}

async function main(): Promise<number> {
  const unitOnly = process.argv.includes('--unit-only');
  // The pages' bundle, as `npm run build` makes it: the browser tests and the API tests serve it.
  await buildWeb();
  const unit = testFiles('unit');
  if (unitOnly) return runNodeTest(unit, {});
  const services = await startServices();
  try {
    return await runNodeTest([...unit, ...testFiles('integration')], services.env);
  } finally {
    await services.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`test run failed before the tests: ${(err as Error).message}`);
    process.exit(1);
  },
);
