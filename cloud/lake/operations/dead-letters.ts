import type { DeltaTable } from '../delta/table.js';
import { deadLetterBatches, type DeadLetter } from '../tables/dead-letters.js';
import type { TxnNames } from './append.js';
import { appendOncePerOffset } from './append-by-offset.js';

/** The txn of a partition's last offset already in the dead-letter table. */
export const deadLetterTxn = (names: TxnNames, partition: number): string => `${names.offset(partition)}-dead-letters`;

/**
 * Commits dead letters exactly once: the dead-letter table keeps its own offset txn per partition,
 * so letters re-planned after a crash (before the commit of the table that skips them) are not
 * added twice. Called before that commit, for the same messages.
 */
export async function appendDeadLetters(table: DeltaTable, letters: DeadLetter[], names: TxnNames): Promise<number> {
  const entries = letters.map((letter) => ({ position: letter.position, row: letter }));
  return appendOncePerOffset(table, entries, (partition) => deadLetterTxn(names, partition), deadLetterBatches, {
    operation: 'WRITE',
    operationParameters: { mode: 'Append' },
    isBlindAppend: true,
  });
}
