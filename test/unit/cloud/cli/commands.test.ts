import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { runCloudCommand } from '../../../../cloud/cli/commands.js';
import { RecipientDirectory } from '../../../../cloud/sharing/recipients.js';
import { silentLogger } from '../../../../shared/log.js';

// `echolake-cloud share-profile`: what an operator runs to give an analyst access.
function setup(): { dir: string; config: string; recipients: string } {
  const dir = mkdtempSync(join(tmpdir(), 'echolake-share-profile-'));
  const recipients = join(dir, 'recipients.yaml');
  const config = join(dir, 'cloud.yaml');
  writeFileSync(config, `sharing:\n  publicUrl: https://lake.example.com\n  recipientsFile: ${recipients}\n  shares:\n    - {name: plant, schemas: []}\n    - {name: office, schemas: []}\n`);
  return { dir, config, recipients };
}

/** Runs the command with console.error captured; resets the exit code it sets. */
async function command(argv: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const original = { error: console.error, log: console.log };
  console.error = (message: string) => void errors.push(String(message));
  console.log = () => undefined;
  try {
    assert.equal(await runCloudCommand(argv), true);
    return { code: Number(process.exitCode ?? 0), stderr: errors.join('\n') };
  } finally {
    Object.assign(console, original);
    process.exitCode = undefined;
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

test('share-profile writes an owner-only profile file whose token the server accepts for the named shares', async () => {
  const { dir, config, recipients } = setup();
  const out = join(dir, 'alice.share');
  assert.deepEqual(await command(['share-profile', 'alice', '--share', 'PLANT', '--days', '7', '--out', out, '--config', config]), { code: 0, stderr: '' });
  const profile = JSON.parse(readFileSync(out, 'utf8')) as { shareCredentialsVersion: number; endpoint: string; bearerToken: string; expirationTime: string };
  assert.equal(profile.shareCredentialsVersion, 1);
  assert.equal(profile.endpoint, 'https://lake.example.com/delta-sharing');
  const days = (Date.parse(profile.expirationTime) - Date.now()) / 86_400_000;
  assert.ok(days > 6.9 && days <= 7, `expires in ${days} days`);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  const result = new RecipientDirectory(recipients, silentLogger()).authenticate(profile.bearerToken);
  assert.ok(result.ok);
  assert.deepEqual([...result.shares], ['plant'], 'the configured spelling of the share is granted');
});

test('share-profile refuses unknown shares, a new recipient without shares, and bad --days, naming the fix', async () => {
  const { dir, config } = setup();
  const out = join(dir, 'x.share');
  const unknown = await command(['share-profile', 'bob', '--share', 'nowhere', '--out', out, '--config', config]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--share nowhere: no such share in sharing.shares \(plant, office\)/);
  assert.match((await command(['share-profile', 'bob', '--out', out, '--config', config])).stderr, /recipient bob is new: name the shares it may read with --share/);
  assert.match((await command(['share-profile', 'bob', '--share', 'plant', '--days', '0', '--out', out, '--config', config])).stderr, /--days 0: give whole days from 1 to 3650/);
  assert.match((await command(['share-profile', '--config', config])).stderr, /share-profile needs a RECIPIENT/);
  assert.equal(existsSync(out), false, 'no profile file from a refused command');
});
