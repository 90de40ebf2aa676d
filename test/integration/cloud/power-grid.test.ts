// `echolake-cloud power-grid generate` as an operator runs it: the power_grid Delta table beside
// the readings, read back by delta-rs; a second run over the same dates is refused.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { requiredEnv } from '../../support/env.js';

const dir = mkdtempSync(join(tmpdir(), 'echolake-power-grid-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function generate(args: string[]): { code: number | null; out: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'cloud/main.ts', 'power-grid', 'generate', ...args], {
    env: { ...process.env, ECHOLAKE_CLOUD_LAKE__ROOT: join(dir, 'lake'), ECHOLAKE_CLOUD_SITES__FILE: join(dir, 'sites.yaml') },
    encoding: 'utf8',
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

test('the generator writes a power_grid table that delta-rs reads: hours per area, usage and reserve', { timeout: 60_000 }, async () => {
  const first = generate(['--from', '2026-08-03', '--days', '3', '--areas', 'tokyo,kansai', '--seed', '7']);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /power_grid version 1: 144 hours of tokyo, kansai from 2026-08-03/);
  const script = `
import json, sys
from deltalake import DeltaTable
frame = DeltaTable(sys.argv[1]).to_pandas()
print(json.dumps({"rows": len(frame), "areas": sorted(frame["area"].unique().tolist()), "dates": sorted(frame["date"].astype(str).unique().tolist()),
  "usageOk": bool(((frame["usagePercent"] - 100 * frame["demandMw"] / frame["supplyCapacityMw"]).abs() < 0.06).all())}))
`;
  const { stdout } = await promisify(execFile)(requiredEnv('ECHOLAKE_TEST_PYTHON'), ['-c', script, join(dir, 'lake', 'power_grid')]);
  assert.deepEqual(JSON.parse(stdout), { rows: 144, areas: ['kansai', 'tokyo'], dates: ['2026-08-03', '2026-08-04', '2026-08-05'], usageOk: true });

  const again = generate(['--from', '2026-08-05', '--days', '2', '--areas', 'tokyo']);
  assert.equal(again.code, 2);
  assert.match(again.out, /power_grid already holds 2026-08-05: generate other dates/);
  assert.equal(generate(['--areas', 'atlantis']).code, 2);
});
