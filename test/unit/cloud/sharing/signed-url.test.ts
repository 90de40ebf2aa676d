import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UrlSigner } from '../../../../cloud/sharing/signed-url.js';

const file = { path: 'share/lake/readings/date=2026-11-23/part-1.parquet', size: 1234, expiresAt: 2_000_000 };

test('a signature verifies for exactly the path, size and expiry it was made for, until the expiry', () => {
  const signer = new UrlSigner('key-of-test');
  const signature = signer.sign(file);
  assert.equal(signer.verify(file, signature, 1_999_999), 'valid');
  assert.equal(signer.verify(file, signature, 2_000_000), 'expired');
  assert.equal(signer.verify({ ...file, path: 'share/lake/readings/_delta_log/00000000000000000000.json' }, signature, 0), 'invalid');
  assert.equal(signer.verify({ ...file, size: 1235 }, signature, 0), 'invalid');
  assert.equal(signer.verify({ ...file, expiresAt: 9_000_000 }, signature, 2_500_000), 'invalid', 'a pushed-out expiry is a tampered URL, not a valid one');
  assert.equal(signer.verify(file, `${signature.slice(0, -1)}A`, 0), signature.endsWith('A') ? 'valid' : 'invalid');
  assert.equal(signer.verify(file, '', 0), 'invalid');
});

test('another key, or a random key per start, does not accept the signature', () => {
  const signature = new UrlSigner('key-of-test').sign(file);
  assert.equal(new UrlSigner('another-key').verify(file, signature, 0), 'invalid');
  const random = new UrlSigner('');
  assert.equal(random.verify(file, random.sign(file), 0), 'valid');
  assert.equal(new UrlSigner('').verify(file, random.sign(file), 0), 'invalid');
});
