/**
 * `GET /api/v1/pipeline` (operators): the pipeline's counters from this process's metrics, for the
 * dashboard's pipeline panel (which turns two answers into rates): readings and batches the ingest
 * took, dead letters by reason, and what the alert engine took and dropped. A role that does not
 * run here has no counters: its fields are null.
 */
import type { FastifyPluginCallback, preHandlerAsyncHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import { errorResponse } from '../../shared/http/errors.js';
import { operatorSecurity } from './auth.js';

export interface PipelineRoutesOptions {
  metrics: Registry;
  operatorAuth: preHandlerAsyncHookHandler;
}

const count = { type: 'number', minimum: 0 } as const;
const countsBy = { type: ['object', 'null'], additionalProperties: count } as const;

const pipelineSchema = {
  type: 'object',
  required: ['at', 'ingest', 'alerts'],
  additionalProperties: false,
  properties: {
    at: { type: 'string', format: 'date-time', description: 'when the counters were read' },
    ingest: {
      type: ['object', 'null'],
      description: 'null when the ingest role does not run in this process',
      required: ['readings', 'batches', 'deadLetters'],
      additionalProperties: false,
      properties: {
        readings: { ...count, description: 'readings taken into Kafka since start' },
        batches: { ...countsBy, description: 'batches by outcome since start' },
        deadLetters: { ...countsBy, description: 'batches dead-lettered by reason since start' },
      },
    },
    alerts: {
      type: ['object', 'null'],
      description: 'null when the alerts role does not run in this process',
      required: ['readings', 'late', 'duplicates', 'malformed'],
      additionalProperties: false,
      properties: { readings: count, late: count, duplicates: count, malformed: count },
    },
  },
} as const;

type MetricValues = ReadonlyArray<{ value: number; labels: Partial<Record<string, string | number>> }>;

function sum(values: MetricValues | undefined): number {
  return (values ?? []).reduce((total, v) => total + v.value, 0);
}

function byLabel(values: MetricValues | undefined, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values ?? []) {
    const key = String(v.labels[label] ?? 'unknown');
    out[key] = (out[key] ?? 0) + v.value;
  }
  return out;
}

export const pipelineRoutes: FastifyPluginCallback<PipelineRoutesOptions> = (app, { metrics, operatorAuth }, done) => {
  app.get('/api/v1/pipeline', {
    preHandler: operatorAuth,
    schema: {
      tags: ['pipeline'],
      summary: 'The pipeline\'s counters since start: ingest, dead letters by reason, alert engine',
      security: operatorSecurity,
      response: { 200: pipelineSchema, 401: errorResponse },
    },
  }, async () => {
    const all = new Map((await metrics.getMetricsAsJSON()).map((metric) => [metric.name, metric.values as MetricValues]));
    const has = (name: string): boolean => all.has(name);
    return {
      at: new Date().toISOString(),
      ingest: has('echolake_ingest_batches_total')
        ? {
            readings: sum(all.get('echolake_ingest_readings_total')),
            batches: byLabel(all.get('echolake_ingest_batches_total'), 'outcome'),
            deadLetters: byLabel(all.get('echolake_ingest_dead_letters_total'), 'reason'),
          }
        : null,
      alerts: has('echolake_alerts_readings_total')
        ? {
            readings: sum(all.get('echolake_alerts_readings_total')),
            late: sum(all.get('echolake_alerts_late_readings_total')),
            duplicates: sum(all.get('echolake_alerts_duplicate_readings_total')),
            malformed: sum(all.get('echolake_alerts_malformed_readings_total')),
          }
        : null,
    };
  });
  done();
};
