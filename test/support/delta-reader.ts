import { python } from './python.js';

export interface DeltaRow {
  siteId: string;
  seq: number;
  deviceId: string;
  ts: string;
  kind: string;
  operationStatus: boolean | null;
  targetTemperature: number | null;
  roomTemperature: number | null;
  date: string;
  [column: string]: unknown;
}

/**
 * Reads a Delta table with delta-rs (the `deltalake` Python package), an implementation
 * independent of ours, and returns its rows sorted by (siteId, seq) with timestamps as ISO UTC.
 */
export async function readDeltaTable(tablePath: string): Promise<{ version: number; rows: DeltaRow[] }> {
  const script = `
import json, sys
from deltalake import DeltaTable
table = DeltaTable(sys.argv[1])
frame = table.to_pandas()
frame = frame.sort_values(["siteId", "seq"])
frame["ts"] = frame["ts"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
frame["date"] = frame["date"].astype(str)
print(json.dumps({"version": table.version(), "rows": json.loads(frame.to_json(orient="records"))}))
`;
  return python<{ version: number; rows: DeltaRow[] }>(script, tablePath);
}
