import assert from 'node:assert/strict';
import { test } from 'node:test';
import fastify from 'fastify';
import { Counter, Registry } from 'prom-client';
import { newOperatorToken, operatorAuth } from '../../../../cloud/http/auth.js';
import { pipelineRoutes } from '../../../../cloud/http/pipeline.js';
import { installErrorHandling } from '../../../../shared/http/errors.js';

const { token, entry } = newOperatorToken('ops');

function app(metrics: Registry) {
  const api = fastify();
  installErrorHandling(api);
  void api.register(pipelineRoutes, { metrics, operatorAuth: operatorAuth([entry]) });
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

test('operators only', async () => {
  assert.equal((await app(new Registry()).inject({ url: '/api/v1/pipeline' })).statusCode, 401);
});
