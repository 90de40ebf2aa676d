import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { containerNodeFlags, unitNodeFlags } from '../support/edge-node-flags.js';

const run = promisify(execFile);
const UNIT = 'systemd/echolake-edge.service';
/** systemd-analyze's scale is ten times the printed exposure: 20 means "2.0 OK" or better. */
const EXPOSURE_THRESHOLD = 20;

async function systemdAnalyze(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('systemd-analyze', args);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const failure = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (failure.code === 'ENOENT') throw new Error('systemd-analyze is missing: install the systemd package (apt-get install systemd)');
    return { code: Number(failure.code), output: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

test('the edge unit passes systemd-analyze verify', async () => {
  const { code, output } = await systemdAnalyze(['verify', UNIT]);
  assert.equal(code, 0, output);
});

test(`the edge unit's exposure stays under ${EXPOSURE_THRESHOLD / 10}`, async () => {
  const { code, output } = await systemdAnalyze(['security', '--offline=yes', `--threshold=${EXPOSURE_THRESHOLD}`, UNIT]);
  assert.equal(code, 0, output);
  assert.match(output, /Overall exposure level for echolake-edge\.service: [01]\.\d OK/);
});

test('the container starts Node with the same memory flags as the unit', () => {
  const flags = unitNodeFlags();
  assert.ok(flags.some((flag) => flag.startsWith('--max-semi-space-size=')), `the unit bounds the young generation: ${flags.join(' ')}`);
  assert.deepEqual(containerNodeFlags(), flags);
});

test("the site secret reaches the service through LoadCredential=, where the example configuration looks for it, and nowhere through Environment=", () => {
  const unit = readFileSync(UNIT, 'utf8');
  const credential = /^LoadCredential=uplink\.password:(\/etc\/echolake\/\S+)$/m.exec(unit);
  assert.ok(credential, 'the unit loads uplink.password from /etc/echolake');
  const example = readFileSync('systemd/edge.example.yaml', 'utf8');
  assert.match(example, /^ {2}passwordFile: \/run\/credentials\/echolake-edge\.service\/uplink\.password$/m, 'the example reads it from the credentials directory');
  assert.doesNotMatch(example, /^\s*password:/m, 'no inline password in the example');
  const environment = `${unit}\n${readFileSync('README.md', 'utf8')}`.match(/Environment=\S*/g) ?? [];
  assert.deepEqual(environment.filter((line) => /PASSWORD|SECRET|TOKEN/i.test(line)), [], 'no secret in an Environment= line of the unit or the README');
});
