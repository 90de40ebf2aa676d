/**
 * `GET /api/v1/pipeline` (operators): the pipeline's counters from this process's metrics, for the
 * dashboard's pipeline panel (which turns two answers into rates): readings and batches the ingest
 * took, dead letters by reason, what the alert engine took and dropped, and the lake's tables. A
 * role that does not run here has no counters: its fields are null. The consumer lag of the lake
 * and alerts roles is asked of Kafka (cached, bounded in time), wherever those roles run.
 */
import type { FastifyPluginCallback, preHandlerAsyncHookHandler } from 'fastify';
import type { Registry } from 'prom-client';
import { errorResponse } from '../../shared/http/errors.js';
import { type LagAnswer, lagAnswerSchema } from '../kafka/lag.js';
import { operatorSecurity } from './auth.js';

export interface PipelineRoutesOptions {
  metrics: Registry;
  operatorAuth: preHandlerAsyncHookHandler;
  /** The consumer groups' lag; absent, the answer's lag is null. */
  lag?: () => Promise<LagAnswer>;
}

const count = { type: 'number', minimum: 0 } as const;
const countsBy = { type: ['object', 'null'], additionalProperties: count } as const;

const pipelineSchema = {
  type: 'object',
  required: ['at', 'ingest', 'alerts', 'lake', 'lag'],
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
    lake: {
      type: ['object', 'null'],
      description: 'null when the lake role does not run in this process',
      required: ['tables'],
      additionalProperties: false,
      properties: {
        tables: {
          type: 'object',
          description: 'by table name: the latest version the writer knows, its live data files and their bytes',
          additionalProperties: {
            type: 'object',
            required: ['version', 'files', 'bytes'],
            additionalProperties: false,
            properties: { version: { type: 'integer', minimum: -1 }, files: count, bytes: count },
          },
        },
      },
    },
    lag: { ...lagAnswerSchema, type: ['object', 'null'], description: 'the lake\'s and the alerts\' consumer groups; null when not asked here' },
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

/** The lake's tables from its gauges, by table name. */
function lakeTables(all: ReadonlyMap<string, MetricValues>): Record<string, { version: number; files: number; bytes: number }> {
  const tables: Record<string, { version: number; files: number; bytes: number }> = {};
  const pick = (metric: string, field: 'version' | 'files' | 'bytes'): void => {
    for (const v of all.get(metric) ?? []) {
      const name = String(v.labels.table ?? 'unknown');
      tables[name] ??= { version: -1, files: 0, bytes: 0 };
      tables[name][field] = v.value;
    }
  };
  pick('echolake_lake_table_version', 'version');
  pick('echolake_lake_table_files', 'files');
  pick('echolake_lake_table_bytes', 'bytes');
  return tables;
}

export const pipelineRoutes: FastifyPluginCallback<PipelineRoutesOptions> = (app, { metrics, operatorAuth, lag }, done) => {
  app.get('/api/v1/pipeline', {
    preHandler: operatorAuth,
    schema: {
      tags: ['pipeline'],
      summary: 'The pipeline: ingest, dead letters by reason, alert engine (counters since start), the lake\'s tables, consumer lag',
      security: operatorSecurity,
      response: { 200: pipelineSchema, 401: errorResponse },
    },
  }, async () => {
    const lagAnswer = lag?.();
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
      lake: has('echolake_lake_table_version') ? { tables: lakeTables(all) } : null,
      lag: (await lagAnswer) ?? null,
    };
  });
  done();
};
