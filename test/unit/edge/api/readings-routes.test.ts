/** The history's row budget: the API can never take the event loop the pipeline shares. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HISTORY_ROWS_PER_SECOND, RowBudget } from '../../../../edge/api/readings-routes.js';
import { AIRCON_ID, apiServer } from '../../../support/api-fakes.js';

const server = apiServer();
after(() => server.app.close());

test('a row budget: a second of rows at once, then refilled as time passes', () => {
  let now = 0;
  const budget = new RowBudget(1_000, () => now);
  assert.deepEqual(budget.take(600), { ok: true });
  assert.deepEqual(budget.take(600), { ok: false, retryAfterSeconds: 1 });
  now = 500;
  assert.deepEqual(budget.take(600), { ok: true }, 'half a second refilled 500');
  assert.deepEqual(budget.take(5_000), { ok: false, retryAfterSeconds: 5 });
});

test('past the budget, history requests get a 429 in the API error shape with Retry-After', async () => {
  const statuses: number[] = [];
  let refused: { headers: Record<string, unknown>; body: string } | undefined;
  for (let i = 0; i < HISTORY_ROWS_PER_SECOND / 1_000 + 10; i++) {
    const response = await server.app.inject({ url: `/api/v1/devices/${AIRCON_ID}/readings?limit=1000` });
    statuses.push(response.statusCode);
    if (response.statusCode === 429) refused ??= { headers: response.headers, body: response.body };
  }
  assert.ok(statuses.includes(200) && refused !== undefined, statuses.join(','));
  assert.equal(refused.headers['retry-after'], '1');
  const body = JSON.parse(refused.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'too_many_requests');
  assert.match(body.error.message, /rows a second/);
});
