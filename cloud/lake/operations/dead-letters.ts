import type { DeltaTable } from '../delta/table.js';
import { deadLetterBatches, type DeadLetter } from '../tables/dead-letters.js';
import type { TxnNames } from './append.js';
import { deleteUncommitted, writeDataFiles } from './write-files.js';

const MAX_REPLANS = 20;

/** The txn of a partition's last offset already in the dead-letter table. */
export const deadLetterTxn = (names: TxnNames, partition: number): string => `${names.offset(partition)}-dead-letters`;

/**
 * Commits dead letters exactly once: the dead-letter table keeps its own offset txn per partition,
 * so letters re-planned after a crash (before the readings commit that skips them) are not added twice.
 * Called before the readings commit of the same messages.
 */
export async function appendDeadLetters(table: DeltaTable, letters: DeadLetter[], names: TxnNames): Promise<number> {
  for (let attempt = 1; attempt <= MAX_REPLANS; attempt += 1) {
    const fresh = letters.filter((letter) => Number(letter.position.offset) > (table.snapshot.txns.get(deadLetterTxn(names, letter.position.partition)) ?? -1));
    if (fresh.length === 0) return 0;
    const txns = new Map<string, number>();
    for (const letter of fresh) {
      const appId = deadLetterTxn(names, letter.position.partition);
      txns.set(appId, Math.max(txns.get(appId) ?? -1, Number(letter.position.offset)));
    }
    const adds = await writeDataFiles(table.store, table.definition, deadLetterBatches(fresh), true);
    const actions = [...adds.map((add) => ({ add })), ...[...txns].map(([appId, version]) => ({ txn: { appId, version, lastUpdated: Date.now() } }))];
    const version = await table.commit(actions, { operation: 'WRITE', operationParameters: { mode: 'Append' }, isBlindAppend: true }, { txnAppIds: txns.keys() });
    if (version !== undefined) return fresh.length;
    await deleteUncommitted(table.store, adds);
  }
  throw new Error(`appending to ${table.location}: the plan went stale ${MAX_REPLANS} times in a row`);
}
