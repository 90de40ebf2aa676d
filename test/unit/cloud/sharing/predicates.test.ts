import assert from 'node:assert/strict';
import { test } from 'node:test';
import { partitionFilter } from '../../../../cloud/sharing/predicates.js';

const col = (name: string, valueType = 'date') => ({ op: 'column', name, valueType });
const lit = (value: string, valueType = 'date') => ({ op: 'literal', value, valueType });
const filterOf = (tree: unknown, columns = ['date']) => {
  const filter = partitionFilter(JSON.stringify(tree), columns);
  assert.ok(filter);
  return filter;
};
const day = (date: string | null) => ({ date });

test('comparisons on a partition column leave out the files they are certainly false for', () => {
  const equal = filterOf({ op: 'equal', children: [col('date'), lit('2026-11-23')] });
  assert.equal(equal(day('2026-11-23')), true);
  assert.equal(equal(day('2026-11-24')), false);
  const range = filterOf({ op: 'and', children: [{ op: 'greaterThanOrEqual', children: [col('DATE'), lit('2026-11-02')] }, { op: 'lessThan', children: [col('date'), lit('2026-11-10')] }] });
  assert.deepEqual(['2026-11-01', '2026-11-02', '2026-11-09', '2026-11-10'].map((d) => range(day(d))), [false, true, true, false]);
  const either = filterOf({ op: 'or', children: [{ op: 'equal', children: [col('date'), lit('2026-11-01')] }, { op: 'greaterThan', children: [col('date'), lit('2026-11-30')] }] });
  assert.deepEqual(['2026-11-01', '2026-11-15', '2026-12-01'].map((d) => either(day(d))), [true, false, true]);
  const not = filterOf({ op: 'not', children: [{ op: 'lessThanOrEqual', children: [col('date'), lit('2026-11-15')] }] });
  assert.deepEqual(['2026-11-15', '2026-11-16'].map((d) => not(day(d))), [false, true]);
});

test('what cannot be decided keeps the file: data columns, nulls, casts that fail, unknown ops', () => {
  const onData = filterOf({ op: 'equal', children: [col('siteId', 'string'), lit('s1', 'string')] });
  assert.equal(onData(day('2026-11-23')), true);
  const andWithData = filterOf({ op: 'and', children: [{ op: 'equal', children: [col('siteId', 'string'), lit('s1', 'string')] }, { op: 'equal', children: [col('date'), lit('2026-11-23')] }] });
  assert.equal(andWithData(day('2026-11-24')), false, 'one certainly false conjunct is enough');
  assert.equal(andWithData(day('2026-11-23')), true);
  assert.equal(filterOf({ op: 'equal', children: [col('date'), lit('2026-11-23')] })(day(null)), true);
  assert.equal(filterOf({ op: 'equal', children: [col('date', 'int'), lit('x', 'int')] })(day('2026-11-23')), true);
  assert.equal(filterOf({ op: 'like', children: [] })(day('2026-11-23')), true);
  const isNull = filterOf({ op: 'isNull', children: [col('date')] });
  assert.deepEqual([isNull(day(null)), isNull(day('')), isNull(day('2026-11-23'))], [true, true, false]);
});

test('numbers and timestamps compare as such, not as text', () => {
  const numeric = filterOf({ op: 'lessThan', children: [col('part', 'int'), lit('10', 'int')] }, ['part']);
  assert.equal(numeric({ part: '9' }), true);
  assert.equal(numeric({ part: '10' }), false);
  const time = filterOf({ op: 'greaterThan', children: [col('hour', 'timestamp'), lit('2026-11-23T05:00:00Z', 'timestamp')] }, ['hour']);
  assert.equal(time({ hour: '2026-11-23 06:00:00' }), true);
  assert.equal(time({ hour: '2026-11-23 04:00:00' }), false);
});

test('a hint that is absent, not JSON, malformed or too deep filters nothing', () => {
  assert.equal(partitionFilter(undefined, ['date']), undefined);
  assert.equal(partitionFilter('{not json', ['date']), undefined);
  assert.equal(partitionFilter(JSON.stringify({ op: 'and', children: 'x' }), ['date']), undefined);
  let deep: unknown = col('date');
  for (let i = 0; i < 40; i += 1) deep = { op: 'not', children: [deep] };
  assert.equal(partitionFilter(JSON.stringify(deep), ['date']), undefined);
});
