import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// The test-only crash hook, in a child process of its own (it kills the process it runs in).
const root = fileURLToPath(new URL('../../../..', import.meta.url));
const script = "import('./cloud/lake/test-crash.ts').then((m) => { m.crashPoint('after-upload'); m.crashPoint('before-commit'); console.log('lived'); })";
const runWith = (value: string | undefined) =>
  spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    env: { ...process.env, ECHOLAKE_TEST_CRASH_AT: value },
    encoding: 'utf8',
  });

test('unset or empty, every crash point is passed', () => {
  for (const value of [undefined, '']) {
    const result = runWith(value);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /lived/);
  }
});

test('armed, the process dies by SIGKILL at that point and says which', () => {
  const result = runWith('before-commit');
  assert.equal(result.signal, 'SIGKILL');
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /crash point reached: before-commit\n/);
});

test('a name that is no crash point is refused, naming the points', () => {
  const result = runWith('during-lunch');
  assert.notEqual(result.status, 0);
  assert.match(result.stderr, /ECHOLAKE_TEST_CRASH_AT=during-lunch names no crash point; use one of before-upload, after-upload/);
});
