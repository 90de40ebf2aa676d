import type { DeltaTable } from '../delta/table.js';
import { commandBatches, type AuditRecord } from '../tables/commands.js';
import type { TxnNames } from './append.js';
import { deleteUncommitted, writeDataFiles } from './write-files.js';

const MAX_REPLANS = 20;

/**
 * Appends audit records exactly once: a txn per Kafka partition holds the last offset in the
 * table, so records read again (a restart, a rebalance) are not added twice; a racing writer's
 * commit makes the plan stale, and it plans again.
 */
export async function appendAuditRecords(table: DeltaTable, records: AuditRecord[], names: TxnNames): Promise<number> {
  for (let attempt = 1; attempt <= MAX_REPLANS; attempt += 1) {
    const fresh = records.filter((r) => Number(r.position.offset) > (table.snapshot.txns.get(names.offset(r.position.partition)) ?? -1));
    if (fresh.length === 0) return 0;
    const txns = new Map<string, number>();
    for (const { position } of fresh) {
      const appId = names.offset(position.partition);
      txns.set(appId, Math.max(txns.get(appId) ?? -1, Number(position.offset)));
    }
    const adds = await writeDataFiles(table.store, table.definition, commandBatches(fresh), true);
    const actions = [...adds.map((add) => ({ add })), ...[...txns].map(([appId, version]) => ({ txn: { appId, version, lastUpdated: Date.now() } }))];
    const version = await table.commit(actions, { operation: 'WRITE', operationParameters: { mode: 'Append' }, isBlindAppend: true }, { txnAppIds: txns.keys() });
    if (version !== undefined) return fresh.length;
    await deleteUncommitted(table.store, adds);
  }
  throw new Error(`appending to ${table.location}: the plan went stale ${MAX_REPLANS} times in a row`);
}
