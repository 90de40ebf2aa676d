import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastify from 'fastify';
import { limitConcurrency } from '../../../../shared/http/concurrency.js';
import { installErrorHandling } from '../../../../shared/http/errors.js';

/** An app with the bound and one route that answers only when the test lets it. */
function heldApp(limit: number) {
  const app = fastify();
  installErrorHandling(app);
  limitConcurrency(app, limit);
  const waiting: Array<() => void> = [];
  app.get('/held', () => new Promise<{ ok: true }>((resolve) => waiting.push(() => resolve({ ok: true }))));
  app.get('/quick', () => ({ ok: true }));
  const releaseAll = (): void => waiting.splice(0).forEach((release) => release());
  return { app, waiting, releaseAll };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('the limit+1st request at once is refused with 503, Retry-After and the error shape; a finished one frees its slot', async () => {
  const { app, releaseAll } = heldApp(3);
  await app.ready();
  const held = [1, 2, 3].map(() => app.inject({ url: '/held' }));
  await settle();
  const refused = await app.inject({ url: '/quick' });
  assert.equal(refused.statusCode, 503);
  assert.equal(refused.headers['retry-after'], '1');
  assert.deepEqual(refused.json(), { error: { code: 'unavailable', message: 'the API is at its limit of 3 requests at once; retry shortly' } });
  releaseAll();
  for (const answer of await Promise.all(held)) assert.equal(answer.statusCode, 200);
  // All three slots are back: three at once again, the fourth refused.
  const again = [1, 2, 3].map(() => app.inject({ url: '/held' }));
  await settle();
  assert.equal((await app.inject({ url: '/quick' })).statusCode, 503);
  releaseAll();
  await Promise.all(again);
  await app.close();
});

test('refused and failed requests give their slot back: no leak', async () => {
  const { app } = heldApp(1);
  app.get('/fails', () => {
    throw new Error('boom');
  });
  for (let i = 0; i < 20; i += 1) {
    assert.equal((await app.inject({ url: '/fails' })).statusCode, 500);
    assert.equal((await app.inject({ url: '/nowhere' })).statusCode, 404);
  }
  assert.equal((await app.inject({ url: '/quick' })).statusCode, 200);
  await app.close();
});
