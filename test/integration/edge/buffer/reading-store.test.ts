/**
 * The byte cap takes the file system's free space into account: on a disk smaller than the cap
 * (a 48 MiB tmpfs in a mount namespace of its own, against a 1 GiB cap) the database stops growing
 * before the disk is full, dropping (and counting) the oldest readings, and every commit succeeds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../..', import.meta.url));

test('a disk smaller than the cap: the store stops growing before the disk is full, drops counted, no commit fails', { timeout: 180_000 }, () => {
  const script = [
    'set -e',
    'dir=$(mktemp -d)',
    'mount -t tmpfs -o size=48m tmpfs "$dir"',
    `exec "${process.execPath}" --import tsx test/support/fill-store.ts "$dir/edge.db" ${1024 * 1024 * 1024} 400000`,
  ].join('\n');
  const run = spawnSync('unshare', ['-rm', 'sh', '-c', script], { cwd: root, encoding: 'utf8', timeout: 170_000 });
  assert.equal(run.error, undefined, `unshare could not run (user and mount namespaces are needed): ${String(run.error)}`);
  assert.equal(run.status, 0, `the fill failed: ${run.stderr}`);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as { appended: number; failure?: string; dropped: number; backlog: number };
  assert.equal(result.failure, undefined, 'no commit failed for want of disk');
  assert.equal(result.appended, 400_000);
  assert.ok(result.dropped > 0, 'the oldest readings made room, counted');
  assert.equal(result.backlog + result.dropped, 400_000, 'every reading is either kept or counted as dropped');
});
