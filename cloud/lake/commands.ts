/**
 * `echolake-cloud lake optimize|vacuum [--table readings|dead_letters|alerts] [--dry-run] [--retention-hours N]
 * [--config FILE] [--set path=value ...]`: the maintenance the lake role runs on a schedule, by
 * hand. Each prints its plan (a dry run stops there) and then what it did, as JSON lines.
 */
import { parseArgs } from 'node:util';
import { silentLogger } from '../../shared/log.js';
import { loadCloudConfig } from '../config.js';
import { DeltaTable } from './delta/table.js';
import { executeOptimize, planOptimize } from './operations/optimize.js';
import { executeVacuum, planVacuum } from './operations/vacuum.js';
import { openTableStore } from './storage/open-store.js';
import { ALERTS_TABLE } from './tables/alerts.js';
import { DEAD_LETTERS_TABLE } from './tables/dead-letters.js';
import { READINGS_TABLE } from './tables/readings.js';

export const LAKE_USAGE = `  lake optimize [--table readings|dead_letters|alerts] [--dry-run]     compact each partition's small files
  lake vacuum [--table readings|dead_letters|alerts] [--dry-run] [--retention-hours N]   delete files no version needs`;

const TABLES = { readings: READINGS_TABLE, dead_letters: DEAD_LETTERS_TABLE, alerts: ALERTS_TABLE } as const;

/** Runs `lake …` (argv without the word `lake`); `print` receives one JSON-able object per line. */
export async function runLakeCommand(argv: string[], print: (line: object) => void = (line) => console.log(JSON.stringify(line))): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      set: { type: 'string', multiple: true },
      table: { type: 'string', default: 'readings' },
      'dry-run': { type: 'boolean', default: false },
      'retention-hours': { type: 'string' },
    },
  });
  const [operation] = positionals;
  if (operation !== 'optimize' && operation !== 'vacuum') throw new Error(`lake needs optimize or vacuum, not ${operation ?? 'nothing'}`);
  const definition = TABLES[values.table as keyof typeof TABLES] as (typeof TABLES)[keyof typeof TABLES] | undefined;
  if (definition === undefined) throw new Error(`--table ${values.table}: the lake's tables are ${Object.keys(TABLES).join(', ')}`);
  const config = loadCloudConfig(values.config, process.env, values.set ?? []);
  const table = await DeltaTable.open(openTableStore(config.lake.root, definition.name, config.lake.s3), definition, silentLogger(), 'echolake-cloud lake command');
  const dryRun = values['dry-run'];
  if (operation === 'optimize') {
    const plan = planOptimize(table, config.lake.maintenance);
    print({ plan: 'optimize', table: table.location, version: plan.version, bins: plan.bins.map((bin) => ({ partition: bin.partitionValues, files: bin.files.length, bytes: bin.bytes })) });
    if (!dryRun) print({ done: 'optimize', ...(await executeOptimize(table, plan)) });
    return;
  }
  const hours = values['retention-hours'] === undefined ? config.lake.maintenance.vacuumRetentionHours : Number(values['retention-hours']);
  if (!Number.isFinite(hours)) throw new Error(`--retention-hours ${values['retention-hours']}: give a number of hours (at least 24)`);
  const plan = await planVacuum(table, hours * 3_600_000);
  print({ plan: 'vacuum', table: table.location, retentionHours: hours, files: plan.doomed.length, bytes: plan.bytes, keys: plan.doomed.slice(0, 100).map((o) => o.key) });
  if (!dryRun) print({ done: 'vacuum', deleted: await executeVacuum(table, plan) });
}
