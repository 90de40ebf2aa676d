/** Readings that leave memory without reaching the database are counted, with their reason. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GroupCommit } from '../../../../edge/buffer/group-commit.js';
import type { ReadingStore } from '../../../../edge/buffer/reading-store.js';
import { type Logger, silentLogger } from '../../../../shared/log.js';
import { aircon } from '../../../support/observations.js';

/** A store on a full disk: every commit fails as SQLite fails then. */
const throwingStore = {
  append: () => {
    throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
  },
} as unknown as ReadingStore;

function recordingLogger(): { logger: Logger; lines: Array<{ msg: string; fields: Record<string, unknown> }> } {
  const lines: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const logger = silentLogger();
  logger.error = ((fields: Record<string, unknown>, msg: string) => void lines.push({ msg, fields })) as Logger['error'];
  return { logger, lines };
}

test('at shutdown, readings the database refused are dropped and counted as such, not promised a retry', () => {
  const { logger, lines } = recordingLogger();
  const commits = new GroupCommit(throwingStore, 60_000, () => undefined, logger);
  for (let i = 0; i < 858; i++) commits.add(aircon(i % 3));
  commits.close();
  assert.deepEqual(commits.droppedUnsaved(), { 'disk-full': 0, shutdown: 858 });
  assert.match(lines.at(-1)?.msg ?? '', /dropped, counted/, 'the last word is the drop');
  assert.equal(lines.at(-1)?.fields.dropped, 858);
});

test('past what memory may hold while the disk is full, the oldest go, counted as disk-full', () => {
  const { logger, lines } = recordingLogger();
  const commits = new GroupCommit(throwingStore, 60_000, () => undefined, logger);
  for (let i = 0; i < 50_010; i++) commits.add(aircon(0));
  assert.equal(commits.droppedUnsaved()['disk-full'], 10);
  assert.equal(lines.length, 1, 'one line for the first thousand drops, not one per reading');
  commits.close();
  assert.equal(commits.droppedUnsaved().shutdown, 50_000);
});
