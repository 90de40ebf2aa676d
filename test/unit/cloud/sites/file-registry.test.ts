import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { addSite, disableSite, rotateSecret } from '../../../../cloud/sites/admin.js';
import { FileSiteRegistry, readRegistryFile, RegistryFileError } from '../../../../cloud/sites/file-registry.js';
import { verifySecret } from '../../../../cloud/sites/secrets.js';
import { silentLogger } from '../../../../shared/log.js';
import { waitFor } from '../../../support/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-sites-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('site add writes hashes only; rotate keeps the old secret working until dropped', async () => {
  const file = join(dir, 'rotate.yaml');
  const first = await addSite(file, { id: 'kyoto-1', name: 'Kyoto', location: { latitude: 35.0, longitude: 135.7 }, timeZone: 'Asia/Tokyo' });
  const stored = readRegistryFile(file).sites[0];
  assert.ok(stored);
  assert.equal(stored.timeZone, 'Asia/Tokyo');
  assert.deepEqual(stored.location, { latitude: 35.0, longitude: 135.7 });
  assert.ok(!JSON.stringify(stored).includes(first.secret), 'no secret in the file');
  const second = await rotateSecret(file, 'kyoto-1', false);
  const both = readRegistryFile(file).sites[0]?.secrets ?? [];
  assert.equal(both.length, 2);
  for (const secret of [first.secret, second.secret]) {
    assert.ok((await Promise.all(both.map((s) => verifySecret(secret, s.scrypt)))).some(Boolean));
  }
  await rotateSecret(file, 'kyoto-1', true);
  assert.equal(readRegistryFile(file).sites[0]?.secrets.length, 1);
  await assert.rejects(addSite(file, { id: 'kyoto-1', name: 'again', location: undefined, timeZone: 'UTC' }), /exists already/);
  await assert.rejects(addSite(file, { id: 'x', name: 'x', location: undefined, timeZone: 'Mars/Olympus' }), /no IANA time zone/);
});

test('the running registry follows the file, and keeps its sites when a change is invalid', async () => {
  const file = join(dir, 'live.yaml');
  await addSite(file, { id: 'a', name: 'A', location: undefined, timeZone: 'UTC' });
  const registry = new FileSiteRegistry(file, 100, silentLogger());
  registry.start();
  try {
    let changes = 0;
    registry.onChange(() => (changes += 1));
    assert.equal(registry.get('a')?.enabled, true);
    disableSite(file, 'a');
    await waitFor('the disable to take effect', () => registry.get('a')?.enabled === false || undefined, 5000);
    assert.equal(changes, 1);
    writeFileSync(file, 'sites:\n  - id: "bad id with spaces"\n');
    await waitFor('the bad change to be refused', () => registry.rejectedReloads === 1 || undefined, 5000);
    assert.equal(registry.get('a')?.enabled, false, 'the sites stay as they were');
  } finally {
    registry.stop();
  }
});

test('an invalid file names what is wrong; duplicates are refused', () => {
  const file = join(dir, 'dup.yaml');
  writeFileSync(file, 'sites:\n  - {id: a, name: A}\n  - {id: a, name: B}\n');
  assert.throws(() => readRegistryFile(file), (err: Error) => err instanceof RegistryFileError && /site a is listed more than once/.test(err.message));
  writeFileSync(file, 'sites:\n  - {id: a, name: A, location: {latitude: 95, longitude: 0}}\n');
  assert.throws(() => readRegistryFile(file), /latitude must be <= 90/);
  assert.deepEqual(readRegistryFile(join(dir, 'missing.yaml')), { sites: [] });
});
