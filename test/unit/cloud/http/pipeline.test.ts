import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastify from 'fastify';
import { Counter, Registry } from 'prom-client';
import { newOperatorToken, operatorAuth } from '../../../../cloud/http/auth.js';
import { pipelineRoutes } from '../../../../cloud/http/pipeline.js';
import type { LagAnswer } from '../../../../cloud/kafka/lag.js';
import type { DeltaTable } from '../../../../cloud/lake/delta/table.js';
import { registerTableMetrics } from '../../../../cloud/lake/table-metrics.js';
import { installErrorHandling } from '../../../../shared/http/errors.js';

const { token, entry } = newOperatorToken('ops');

function app(metrics: Registry, lag?: () => Promise<LagAnswer>) {
  const api = fastify();
  installErrorHandling(api);
  void api.register(pipelineRoutes, { metrics, operatorAuth: operatorAuth([entry]), ...(lag === undefined ? {} : { lag }) });
  return api;
}

const get = (api: ReturnType<typeof app>) => api.inject({ url: '/api/v1/pipeline', headers: { authorization: `Bearer ${token}` } });

test('the ingest\'s and the alert engine\'s counters, summed over sites and grouped by outcome and reason', async () => {
  const metrics = new Registry();
  const readings = new Counter({ name: 'echolake_ingest_readings_total', help: 'h', labelNames: ['site'], registers: [metrics] });
  const batches = new Counter({ name: 'echolake_ingest_batches_total', help: 'h', labelNames: ['transport', 'outcome'], registers: [metrics] });
  const dead = new Counter({ name: 'echolake_ingest_dead_letters_total', help: 'h', labelNames: ['reason'], registers: [metrics] });
  readings.inc({ site: 'a' }, 10);
  readings.inc({ site: 'b' }, 5);
  batches.inc({ transport: 'mqtt', outcome: 'ack' }, 3);
  batches.inc({ transport: 'https', outcome: 'ack' }, 1);
  batches.inc({ transport: 'mqtt', outcome: 'dead_letter' }, 1);
  dead.inc({ reason: 'invalid_json' });
  const answer = await get(app(metrics));
  assert.equal(answer.statusCode, 200);
  const body = answer.json<{ ingest: unknown; alerts: unknown }>();
  assert.deepEqual(body.ingest, { readings: 15, batches: { ack: 4, dead_letter: 1 }, deadLetters: { invalid_json: 1 } });
  assert.equal(body.alerts, null, 'no alerts role in this process');
});

test('the lake\'s tables from its gauges, and the consumer lag as the probe answered', async () => {
  const metrics = new Registry();
  const table = (name: string, version: number, sizes: number[]) =>
    ({ definition: { name }, snapshot: { version, files: new Map(sizes.map((size, i) => [String(i), { size }])) } }) as unknown as DeltaTable;
  registerTableMetrics(metrics, () => [table('readings', 12, [1000, 2000]), table('dead_letters', 0, [])]);
  const lag: LagAnswer = {
    at: '2026-12-07T00:00:00.000Z',
    groups: [{ role: 'lake', groupId: 'echolake-lake', topic: 'readings', lag: 42, partitions: 3 }, { role: 'alerts', groupId: 'a', topic: 'readings', lag: null, partitions: 3 }],
    error: null,
  };
  const body = (await get(app(metrics, () => Promise.resolve(lag)))).json<{ lake: unknown; lag: unknown }>();
  assert.deepEqual(body.lake, { tables: { readings: { version: 12, files: 2, bytes: 3000 }, dead_letters: { version: 0, files: 0, bytes: 0 } } });
  assert.deepEqual(body.lag, lag);
  const none = (await get(app(new Registry()))).json<{ lake: unknown; lag: unknown }>();
  assert.deepEqual([none.lake, none.lag], [null, null], 'no lake role here, no probe');
});

test('operators only', async () => {
  assert.equal((await app(new Registry()).inject({ url: '/api/v1/pipeline' })).statusCode, 401);
});
