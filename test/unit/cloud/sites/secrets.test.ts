import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { test } from 'node:test';
import { hashSecret, mosquittoHash, newSecret, verifySecret } from '../../../../cloud/sites/secrets.js';

test('a secret verifies against its scrypt hash and nothing else does', async () => {
  const secret = newSecret();
  assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
  const stored = await hashSecret(secret);
  assert.match(stored, /^scrypt\$16384\$8\$1\$/);
  assert.ok(!stored.includes(secret));
  assert.equal(await verifySecret(secret, stored), true);
  assert.equal(await verifySecret(`${secret}x`, stored), false);
  assert.equal(await verifySecret(secret, await hashSecret(secret)), true, 'salted: a second hash differs but verifies');
  assert.equal(await verifySecret(secret, 'plain-text'), false);
  assert.equal(await verifySecret(secret, 'scrypt$x$y$z$$'), false);
});

test('the Mosquitto hash is PBKDF2-SHA512 in mosquitto_passwd\'s $7$ format', async () => {
  const hash = await mosquittoHash('pw');
  const [, scheme, iterations, salt, digest] = hash.split('$');
  assert.equal(scheme, '7');
  assert.equal(iterations, '101');
  const expected = pbkdf2Sync('pw', Buffer.from(salt ?? '', 'base64'), 101, 64, 'sha512').toString('base64');
  assert.equal(digest, expected);
});
