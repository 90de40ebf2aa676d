import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { issueToken, readRecipientsFile, RecipientDirectory, RecipientsFileError } from '../../../../cloud/sharing/recipients.js';
import { silentLogger } from '../../../../shared/log.js';

const fileIn = () => join(mkdtempSync(join(tmpdir(), 'echolake-recipients-')), 'recipients.yaml');
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000);

test('a token is stored only as its hash, owner-readable, and authenticates its recipient with its shares', () => {
  const file = fileIn();
  const issued = issueToken(file, 'alice', { shares: ['plant', 'plant', 'Office'], expiresAt: inDays(30) });
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes(issued.token), 'the token itself is not in the file');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readRecipientsFile(file).recipients[0]?.shares, ['plant', 'Office']);
  const directory = new RecipientDirectory(file, silentLogger());
  const result = directory.authenticate(issued.token);
  assert.ok(result.ok);
  assert.equal(result.recipient, 'alice');
  assert.deepEqual([...result.shares].sort(), ['office', 'plant']);
  assert.deepEqual(directory.authenticate('not-a-token'), { ok: false, reason: 'unknown' });
});

test('an expired token is told apart from an unknown one', () => {
  const file = fileIn();
  const issued = issueToken(file, 'bob', { shares: ['plant'], expiresAt: new Date(Date.now() - 1000) });
  const result = new RecipientDirectory(file, silentLogger()).authenticate(issued.token);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.reason, 'expired');
});

test('a new token keeps the unexpired ones (rotation), drops expired ones, and works without a restart', () => {
  const file = fileIn();
  const directory = new RecipientDirectory(file, silentLogger());
  assert.deepEqual(directory.authenticate('x'), { ok: false, reason: 'unknown' }, 'no file yet: nobody');
  const old = issueToken(file, 'carol', { shares: ['plant'], expiresAt: new Date(Date.now() - 1) });
  const current = issueToken(file, 'carol', { expiresAt: inDays(10) });
  const next = issueToken(file, 'carol', { expiresAt: inDays(20) });
  assert.equal(readRecipientsFile(file).recipients[0]?.tokens.length, 2, 'the expired token was dropped');
  assert.equal(directory.authenticate(current.token).ok, true);
  assert.equal(directory.authenticate(next.token).ok, true);
  assert.equal(directory.authenticate(old.token).ok, false);
  assert.deepEqual(next.recipient.shares, ['plant'], 'grants stay when no shares are named');
});

test('a new recipient needs shares; a broken file is refused by name and the directory keeps the last good one', () => {
  const file = fileIn();
  assert.throws(() => issueToken(file, 'dave', { expiresAt: inDays(1) }), /recipient dave is new: name the shares/);
  const issued = issueToken(file, 'dave', { shares: ['plant'], expiresAt: inDays(1) });
  const directory = new RecipientDirectory(file, silentLogger());
  assert.equal(directory.authenticate(issued.token).ok, true);
  writeFileSync(file, 'recipients:\n  - name: dave\n    shares: plant\n');
  assert.throws(() => readRecipientsFile(file), (err: unknown) => err instanceof RecipientsFileError && /\/recipients\/0\/shares must be array/.test(err.message));
  assert.equal(directory.authenticate(issued.token).ok, true, 'a typo does not lock the analysts out');
  writeFileSync(file, 'recipients:\n  - {name: a, shares: [], tokens: []}\n  - {name: a, shares: [], tokens: []}\n');
  assert.throws(() => readRecipientsFile(file), /recipient a is listed more than once/);
});
