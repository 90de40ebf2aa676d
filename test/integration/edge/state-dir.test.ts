/**
 * Start-up errors that are configuration problems exit 2 (systemd's Restart= does not help, so no
 * loop) and name the path, the cause and the fix: a read-only state folder, one under /proc, and an
 * API host that is no address. The read-only folder is a read-only bind mount in a mount namespace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Deployable } from '../../support/deployable.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'echolake-statedir-'));
const env = (stateDir: string): Record<string, string> => ({
  ECHOLAKE_EDGE_SITE_ID: 'site-a',
  ECHOLAKE_EDGE_STATE_DIR: stateDir,
  ECHOLAKE_EDGE_ECHONET__INTERFACE: '127.0.0.1',
  ECHOLAKE_EDGE_API__PORT: '0',
  ECHOLAKE_EDGE_UPLINK__URL: 'mqtt://127.0.0.1:1',
});

test('a state folder under /proc: exit 2 at once with the path, the cause and the fix (no hang)', { timeout: 60_000 }, async () => {
  const edge = new Deployable('edge', 'edge/main.ts', [], env('/proc/nope/state'));
  const code = await Promise.race([edge.exited, new Promise((resolve) => setTimeout(() => resolve('hung'), 40_000))]);
  if (code === 'hung') await edge.stop('SIGKILL');
  assert.equal(code, 2);
  const text = edge.stderr.join('');
  assert.match(text, /stateDir \/proc\/nope\/state: ENOENT/);
  assert.match(text, /point stateDir \(ECHOLAKE_EDGE_STATE_DIR\) at a folder the service can create and write/);
});

test('a read-only state folder: exit 2 with the path, the cause and the fix', { timeout: 60_000 }, () => {
  const readOnly = mkdtempSync(join(work, 'ro-'));
  const variables = Object.entries(env(readOnly)).map(([k, v]) => `${k}=${v}`);
  const script = `set -e\nmount --bind "${readOnly}" "${readOnly}"\nmount -o remount,bind,ro "${readOnly}"\nexec env ${variables.join(' ')} "${process.execPath}" --import tsx edge/main.ts`;
  const run = spawnSync('unshare', ['-rm', 'sh', '-c', script], { cwd: root, encoding: 'utf8', timeout: 50_000 });
  assert.equal(run.error, undefined, `unshare could not run (user and mount namespaces are needed): ${String(run.error)}`);
  assert.equal(run.status, 2, run.stderr + run.stdout.slice(-2000));
  assert.match(run.stderr, new RegExp(`stateDir ${readOnly}: EROFS`));
});

test('--check-config refuses an API host that is no address', async () => {
  const file = join(work, 'bad-host.yaml');
  writeFileSync(file, 'siteId: plant-7\nechonet:\n  interface: 192.0.2.10\napi:\n  host: not-a-host\nuplink:\n  url: mqtts://cloud.example:8883\n');
  const check = new Deployable('check', 'edge/main.ts', ['--check-config', file], {});
  assert.equal(await check.exited, 2);
  assert.match(check.stderr.join(''), /api\.host: must match pattern/);
});
