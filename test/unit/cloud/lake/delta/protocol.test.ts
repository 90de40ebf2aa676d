import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetaDataAction } from '../../../../../cloud/lake/delta/actions.js';
import { assertReadable, assertWritable, UnreadableTableError } from '../../../../../cloud/lake/delta/protocol.js';

const metaData = (configuration: Record<string, string> = {}, schemaString = '{"type":"struct","fields":[]}'): MetaDataAction => ({
  id: 'id',
  format: { provider: 'parquet' },
  schemaString,
  partitionColumns: [],
  configuration,
});

test('legacy protocols up to writer 4 are written when their rules are not in use (CDF on, Spark ADD COLUMNS)', () => {
  for (const minWriterVersion of [1, 2, 3, 4]) {
    assert.doesNotThrow(() => assertWritable({ minReaderVersion: 1, minWriterVersion }, metaData({ 'delta.enableChangeDataFeed': 'true' }), 't'));
  }
});

test('a refusal for what the table needs says what, apart from where (callers tell their own users)', () => {
  const needs = (protocol: Parameters<typeof assertReadable>[0]) => {
    try {
      assertReadable(protocol, '/var/lake/t');
    } catch (err) {
      assert.ok(err instanceof UnreadableTableError);
      return err.needs;
    }
    return undefined;
  };
  assert.equal(needs({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz', 'deletionVectors', 'v2Checkpoint'] }), 'reader feature(s) deletionVectors, v2Checkpoint');
  assert.equal(needs({ minReaderVersion: 2, minWriterVersion: 5 }), 'reader version 2 (columnMapping)');
  assert.equal(needs({ minReaderVersion: 4, minWriterVersion: 7 }), 'reader version 4');
  assert.equal(needs({ minReaderVersion: 1, minWriterVersion: 2 }), undefined);
});

test('table features an append-only writer honours are accepted', () => {
  const protocol = { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['timestampNtz'], writerFeatures: ['appendOnly', 'changeDataFeed', 'domainMetadata', 'timestampNtz'] };
  assert.doesNotThrow(() => assertWritable(protocol, metaData(), 't'));
});

test('unsupported features and rules are refused by name', () => {
  assert.throws(() => assertReadable({ minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors'], writerFeatures: ['deletionVectors'] }, 't'), /reader feature\(s\) deletionVectors/);
  assert.throws(() => assertWritable({ minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['appendOnly', 'rowTracking', 'inCommitTimestamp'] }, metaData(), 't'), /writer feature\(s\) rowTracking, inCommitTimestamp/);
  assert.throws(() => assertReadable({ minReaderVersion: 2, minWriterVersion: 5 }, 't'), /reader version 2 \(columnMapping\)/);
  assert.throws(() => assertReadable({ minReaderVersion: 99, minWriterVersion: 2 }, 't'), /reader version 99/);
  assert.throws(() => assertWritable({ minReaderVersion: 1, minWriterVersion: 8 }, metaData(), 't'), /writer version 8/);
  assert.throws(() => assertWritable({ minReaderVersion: 1, minWriterVersion: 3 }, metaData({ 'delta.constraints.positive': 'seq > 0' }), 't'), /CHECK constraint positive/);
  const generated = '{"type":"struct","fields":[{"name":"d","type":"date","nullable":true,"metadata":{"delta.generationExpression":"CAST(ts AS DATE)"}}]}';
  assert.throws(() => assertWritable({ minReaderVersion: 1, minWriterVersion: 4 }, metaData({}, generated), 't'), /generatedColumns/);
});
