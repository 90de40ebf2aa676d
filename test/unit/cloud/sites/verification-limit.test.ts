import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { sourceKey, VerificationLimit, type VerificationLimits } from '../../../../cloud/sites/verification-limit.js';

const limits: VerificationLimits = { maxConcurrent: 2, maxWaiting: 2, maxPerSource: 2, wrongSecretTtlMs: 60_000, maxRememberedWrong: 3 };
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A check that answers only when told to, and counts how often it ran. */
class HeldCheck {
  runs = 0;
  private pending: Array<(matches: boolean) => void> = [];

  readonly verify = (): Promise<boolean> => {
    this.runs += 1;
    return new Promise((resolve) => this.pending.push(resolve));
  };

  answerAll(matches: boolean): void {
    for (const resolve of this.pending.splice(0)) resolve(matches);
  }
}

test('no more checks at once than the limit, a bounded number waits its turn, and one source gets only its share', async () => {
  const limit = new VerificationLimit(limits);
  const check = new HeldCheck();
  const first = limit.check('a\0h1', '192.0.2.7', check.verify);
  const second = limit.check('a\0h2', '192.0.2.7', check.verify);
  assert.equal(await limit.check('a\0h3', '192.0.2.7', check.verify), 'busy', 'the same source a third time');
  assert.equal(await limit.check('a\0h3', '::ffff:192.0.2.7', check.verify), 'busy', 'the same address written IPv4-mapped');
  const third = limit.check('b\0h4', '198.51.100.1', check.verify);
  const fourth = limit.check('c\0h5', '203.0.113.9', check.verify);
  assert.equal(await limit.check('d\0h6', '203.0.113.10', check.verify), 'busy', 'every slot taken and the line full');
  assert.equal(check.runs, 2, 'two run, two wait');
  check.answerAll(true);
  assert.deepEqual([await first, await second], ['match', 'match']);
  await turn();
  assert.equal(check.runs, 4, 'the waiting ones got the slots');
  check.answerAll(false);
  assert.deepEqual([await third, await fourth], ['wrong', 'wrong']);
  const again = limit.check('a\0h7', '192.0.2.7', check.verify);
  check.answerAll(true);
  assert.equal(await again, 'match', 'slots and shares are given back');
});

test('the same wrong secret offered many times at once costs one check', async () => {
  const limit = new VerificationLimit({ ...limits, maxConcurrent: 1, maxWaiting: 10 });
  const check = new HeldCheck();
  const offers = Array.from({ length: 5 }, () => limit.check('a\0bad', undefined, check.verify));
  check.answerAll(false);
  assert.deepEqual(await Promise.all(offers), ['wrong', 'wrong', 'wrong', 'wrong', 'wrong']);
  assert.equal(check.runs, 1, 'those waiting found it remembered when their turn came');
});

test('a secret that failed is refused again without a check until its time is up', async () => {
  const limit = new VerificationLimit({ ...limits, wrongSecretTtlMs: 20 });
  let runs = 0;
  const wrong = (): Promise<boolean> => {
    runs += 1;
    return Promise.resolve(false);
  };
  assert.equal(await limit.check('a\0bad', '192.0.2.7', wrong), 'wrong');
  for (let i = 0; i < 100; i += 1) assert.equal(await limit.check('a\0bad', `192.0.2.${i}`, wrong), 'wrong');
  assert.equal(runs, 1, 'the same wrong secret costs one check');
  assert.equal(await limit.check('b\0bad', '192.0.2.7', wrong), 'wrong');
  assert.equal(runs, 2, 'remembered per site');
  await setTimeout(50); // past its time (waiting longer can only make that truer)
  assert.equal(await limit.check('a\0bad', '192.0.2.7', wrong), 'wrong');
  assert.equal(runs, 3, 'checked again once its time is up');
});

test('a remembered failure does not wait for a slot', async () => {
  const limit = new VerificationLimit({ ...limits, maxConcurrent: 1, maxWaiting: 0 });
  assert.equal(await limit.check('a\0bad', '192.0.2.7', () => Promise.resolve(false)), 'wrong');
  const held = new HeldCheck();
  const running = limit.check('b\0x', '198.51.100.1', held.verify);
  assert.equal(await limit.check('a\0bad', '192.0.2.7', held.verify), 'wrong', 'not busy: no check was needed');
  held.answerAll(true);
  assert.equal(await running, 'match');
});

test('failures remembered are bounded, the least recently offered forgotten first; forget() clears them', async () => {
  const limit = new VerificationLimit(limits);
  let runs = 0;
  const wrong = (): Promise<boolean> => {
    runs += 1;
    return Promise.resolve(false);
  };
  for (const key of ['k1', 'k2', 'k3']) await limit.check(key, undefined, wrong);
  await limit.check('k1', undefined, wrong); // k1 offered again: now the most recent
  await limit.check('k4', undefined, wrong); // over maxRememberedWrong (3): k2 goes
  assert.equal(runs, 4);
  await limit.check('k1', undefined, wrong);
  assert.equal(runs, 4, 'k1 still remembered');
  await limit.check('k2', undefined, wrong);
  assert.equal(runs, 5, 'k2 was forgotten');
  limit.forget();
  await limit.check('k1', undefined, wrong);
  assert.equal(runs, 6, 'after forget() every secret is checked again');
});

test('a failing check gives its slot back, to the next in line', async () => {
  const limit = new VerificationLimit({ ...limits, maxConcurrent: 1, maxPerSource: 1 });
  const failing = limit.check('a\0x', '192.0.2.7', () => Promise.reject(new Error('scrypt failed')));
  const next = limit.check('b\0y', '198.51.100.1', () => Promise.resolve(true));
  await assert.rejects(failing, /scrypt failed/);
  assert.equal(await next, 'match');
  assert.equal(await limit.check('a\0y', '192.0.2.7', () => Promise.resolve(true)), 'match', 'and the source its share');
});

test('no slots at all: every check is refused, none waits for ever', async () => {
  const limit = new VerificationLimit({ ...limits, maxConcurrent: 0 });
  assert.equal(await limit.check('a\0x', undefined, () => Promise.resolve(true)), 'busy');
});

test('sources: an IPv4 address, an IPv6 /64; loopback and unknown addresses share only the overall limit', () => {
  assert.equal(sourceKey('192.0.2.7'), '192.0.2.7');
  assert.equal(sourceKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:2:ffff::9'));
  assert.notEqual(sourceKey('2001:db8:1:2::1'), sourceKey('2001:db8:1:3::1'));
  for (const exempt of ['127.0.0.1', '::1', '::ffff:127.0.0.1', 'not an address', undefined]) assert.equal(sourceKey(exempt), undefined, String(exempt));
});
